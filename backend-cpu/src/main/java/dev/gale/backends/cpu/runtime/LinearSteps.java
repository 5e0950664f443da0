package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.Activation;
import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.PackedB;
import dev.gale.backends.cpu.Sgemm;
import dev.gale.ir.op.GaleOps;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * MatMul, Gemm and the fused {@code gale::FusedMatMul} / {@code gale::FusedGemm} on {@link Sgemm}: bias and
 * activation go into the GEMM's epilogue where it has a form for them (a bias per column or per row, a full-size
 * addend as its residual), and run as an elementwise pass after it otherwise. MatMul's broadcast batch becomes
 * batched GEMMs with strides, or one taller GEMM when the right operand is shared by every batch entry.
 */
final class LinearSteps {
    private LinearSteps() {}

    static void registerAll() {
        NativeOps.register("MatMul", c -> matMul(c, "none", 0, false));
        NativeOps.register(GaleOps.DOMAIN, "FusedMatMul", c -> matMul(c, c.attrString("activation"),
                c.attrFloat("activation_alpha"), c.attrInt("transB") != 0));
        NativeOps.register("Gemm", c -> gemm(c, "none", 0));
        NativeOps.register(GaleOps.DOMAIN, "FusedGemm", c -> gemm(c, c.attrString("activation"),
                c.attrFloat("activation_alpha")));
    }

    /** The epilogue activation for a fused op's {@code activation}, or null when it needs a pass of its own. */
    static Activation activation(String name) {
        return switch (name) {
            case "none" -> Activation.NONE;
            case "relu" -> Activation.RELU;
            case "tanh" -> Activation.TANH;
            case "sigmoid" -> Activation.SIGMOID;
            case "gelu" -> Activation.GELU;
            case "gelu_tanh" -> Activation.GELU_TANH;
            default -> null;
        };
    }

    /** The elementwise pass after the GEMM for an activation the epilogue lacks; null when there is none. */
    static Step activationPass(EmitContext c, String name, float alpha, long out, long n) {
        if (!name.equals("leaky_relu")) return null;
        return UnaryMath.mapStep(c.pool, c.mem, UnaryMath.LEAKY_RELU, alpha, 0, out, out, n);
    }

    static boolean knownActivation(String name) { return activation(name) != null || name.equals("leaky_relu"); }

    /** MatMul, or FusedMatMul with B [n, k] read as B^T when {@code transB}. */
    private static Step matMul(EmitContext c, String act, float alpha, boolean transB) {
        if (!c.allArena() || !knownActivation(act)) return null;
        long[] as = c.in(0).shape, bs = c.in(1).shape, os = c.out(0).shape;
        if (as.length == 0 || bs.length == 0 || transB && bs.length != 2) return null;
        long[] a2 = as.length == 1 ? new long[] {1, as[0]} : as;
        long[] b2 = transB ? new long[] {bs[1], bs[0]} : bs.length == 1 ? new long[] {bs[0], 1} : bs;
        long m = a2[a2.length - 2], k = a2[a2.length - 1], n = b2[b2.length - 1];
        if (b2[b2.length - 2] != k || m > Integer.MAX_VALUE || n > Integer.MAX_VALUE || k > Integer.MAX_VALUE)
            return null;
        long[] ab = Arrays.copyOf(a2, a2.length - 2), bb = Arrays.copyOf(b2, b2.length - 2);
        int rank = Math.max(ab.length, bb.length);
        long[] ob = new long[rank];
        for (int i = 0; i < rank; i++) {
            long x = dimFromRight(ab, rank - 1 - i), y = dimFromRight(bb, rank - 1 - i);
            if (x != y && x != 1 && y != 1) return null;
            ob[i] = x == 1 ? y : x;
        }
        long batch = 1;
        for (long d : ob) batch *= d;
        if (batch * m * n != c.out(0).numel) return null;
        MemorySegment mem = c.mem;
        long aOff = c.in(0).offset, bOff = c.in(1).offset, cOff = c.out(0).offset;
        Epilogue ep = Epilogue.NONE;
        Step post = null;
        Activation a = activation(act);
        if (c.has(2)) {
            Slot bias = c.in(2);
            long[] bsh = stripOnes(bias.shape);
            if (bsh.length == 1 && bsh[0] == n && bias.numel == n) {
                ep = ep.withColumnBias(mem, bias.offset);
            } else if (bsh.length == 2 && bsh[0] == m && bsh[1] == 1 && bias.shape.length <= 2) {
                ep = ep.withRowBias(mem, bias.offset);
            } else {
                ZipLayout lay = ZipLayout.of(os, os, bias.shape);
                if (lay == null) return null;
                post = BinaryMath.zipStep(c.pool, mem, BinaryMath.ADD, lay, cOff, bias.offset, cOff);
                Step act2 = activationStep(c, act, alpha, cOff, c.out(0).numel);
                if (act2 != null) post = then(post, act2);
                a = Activation.NONE;
            }
        }
        if (a != null) ep = ep.withActivation(a);
        else post = then(post, activationPass(c, act, alpha, cOff, c.out(0).numel));
        Step product = c.in(1).constant && c.in(1).rank() == 2 && ep.bias() == null | !ep.biasPerRow()
                ? packedProduct(c.pool, mem, ob, ab, bb, (int) m, (int) n, (int) k, transB, aOff, bOff, cOff, ep,
                        PackedB.streams(c.constantBytes)) : null;
        if (product == null)
            product = product(c.pool, ob, ab, bb, (int) m, (int) n, (int) k, transB, 1f, mem, aOff, mem, bOff, mem,
                    cOff, ep, ep.bias() != null && ep.biasPerRow());
        if (product == null) return null;
        return then(product, post);
    }

    /** The whole activation as an elementwise pass (when the bias could not go into the epilogue). */
    private static Step activationStep(EmitContext c, String act, float alpha, long out, long n) {
        int opc = switch (act) {
            case "none" -> -1;
            case "relu" -> UnaryMath.RELU;
            case "tanh" -> UnaryMath.TANH;
            case "sigmoid" -> UnaryMath.SIGMOID;
            case "gelu" -> UnaryMath.GELU;
            case "gelu_tanh" -> UnaryMath.GELU_TANH;
            default -> UnaryMath.LEAKY_RELU;
        };
        return opc < 0 ? null : UnaryMath.mapStep(c.pool, c.mem, opc, alpha, 0, out, out, n);
    }

    /**
     * C = A x B for a constant 2-D B packed once when the plan is built, when A's batch is contiguous (one tall
     * product); null otherwise.
     */
    private static Step packedProduct(KernelPool pool, MemorySegment mem, long[] ob, long[] ab, long[] bb, int m, int n,
                                      int k, boolean transB, long aOff, long bOff, long cOff, Epilogue ep,
                                      boolean streams) {
        ZipLayout lay = ZipLayout.of(ob, ab, bb);
        if (lay == null || lay.rows != 1 || !lay.contiguous[0] || lay.contiguous[1] && lay.n != 1
                || lay.n * m > Integer.MAX_VALUE) return null;
        int tall = (int) (lay.n * m);
        PackedB packed = PackedB.pack(transB, mem, bOff, transB ? k : n, k, n, tall, streams);
        return () -> Sgemm.gemm(pool, false, tall, 1f, mem, aOff, k, packed, 0f, mem, cOff, n, ep);
    }

    /**
     * C[t] = alpha A[t] op(B)[t] for each entry t of the broadcast batch {@code ob} of A's batch {@code ab} and B's
     * {@code bb}; A is m x k, op(B) k x n (B stored n x k when {@code transB}), C dense m x n per entry.
     */
    static Step product(KernelPool pool, long[] ob, long[] ab, long[] bb, int m, int n, int k, boolean transB,
                        float alpha, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment c,
                        long cOff, Epilogue ep, boolean rowBias) {
        ZipLayout lay = ZipLayout.of(ob, ab, bb);
        if (lay == null) return null;
        long am = (long) m * k, bm = (long) k * n, cm = (long) m * n, ldb = transB ? k : n;
        boolean ca = lay.contiguous[0], cb = lay.contiguous[1];
        long rows = lay.rows, per = lay.n;
        if (rows == 1 && ca && !cb && !rowBias && per * m <= Integer.MAX_VALUE) {
            // One B for every entry: a single (per * m) x k by k x n product.
            int tall = (int) (per * m);
            return () -> Sgemm.gemm(pool, false, transB, tall, n, k, alpha, a, aOff, k, b, bOff, ldb, 0f, c, cOff, n,
                    ep);
        }
        if (per > Integer.MAX_VALUE) return null;
        int batch = (int) per;
        return () -> {
            for (long r = 0; r < rows; r++)
                Sgemm.gemmBatched(pool, batch, false, transB, m, n, k, alpha, a, aOff + lay.rowOffset(0, r) * am, k,
                        ca ? am : 0, b, bOff + lay.rowOffset(1, r) * bm, ldb, cb ? bm : 0, 0f, c,
                        cOff + r * per * cm, n, cm, ep);
        };
    }

    private static Step gemm(EmitContext c, String act, float alpha) {
        if (!c.allArena() || !knownActivation(act)) return null;
        Slot a = c.in(0), b = c.in(1), y = c.out(0);
        if (a.rank() != 2 || b.rank() != 2 || y.rank() != 2) return null;
        boolean ta = c.attrInt("transA") != 0, tb = c.attrInt("transB") != 0;
        long m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1), n = tb ? b.dim(0) : b.dim(1);
        if ((tb ? b.dim(1) : b.dim(0)) != k || y.dim(0) != m || y.dim(1) != n) return null;
        if (m > Integer.MAX_VALUE || n > Integer.MAX_VALUE || k > Integer.MAX_VALUE) return null;
        float al = c.attrFloat("alpha"), beta = c.attrFloat("beta");
        MemorySegment mem = c.mem;
        long yOff = y.offset, aOff = a.offset, bOff = b.offset, lda = a.dim(1), ldb = b.dim(1);
        Epilogue ep = Epilogue.NONE;
        Step pre = null;
        float gemmBeta = 0f;
        if (c.has(2) && beta != 0f) {
            Slot cc = c.in(2);
            int r = cc.rank();
            boolean perColumn = r <= 2 && cc.numel == n
                    && (r == 0 ? n == 1 : cc.shape[r - 1] == n && (r == 1 || cc.dim(0) == 1));
            if (beta == 1f && perColumn) {
                ep = ep.withColumnBias(mem, cc.offset);
            } else if (beta == 1f && r == 2 && cc.dim(0) == m && cc.dim(1) == 1) {
                ep = ep.withRowBias(mem, cc.offset);
            } else if (beta == 1f && r == 2 && cc.dim(0) == m && cc.dim(1) == n) {
                ep = ep.withResidual(mem, cc.offset, n);
            } else {
                ZipLayout lay = ZipLayout.of(y.shape, cc.shape);
                if (lay == null) return null;
                Step copy = broadcastCopy(c.pool, mem, lay, cc.offset, yOff);
                pre = beta == 1f ? copy : then(copy, scaleStep(mem, yOff, m * n, beta));
                gemmBeta = 1f;
            }
        }
        Activation ac = activation(act);
        Step post = null;
        if (ac != null) ep = ep.withActivation(ac);
        else post = activationPass(c, act, alpha, yOff, m * n);
        int mi = (int) m, ni = (int) n, ki = (int) k;
        float gb = gemmBeta;
        Epilogue e = ep;
        KernelPool pool = c.pool;
        Step g;
        if (b.constant && !Sgemm.readsBInPlace(ta, tb, ni, ki)) {
            // Weights that never change: packed once, here, instead of on every run; read ahead into L2 when the
            // plan's weights are too large to stay in the cache between runs.
            PackedB packed = PackedB.pack(tb, mem, bOff, ldb, ki, ni, mi, PackedB.streams(c.constantBytes));
            g = () -> Sgemm.gemm(pool, ta, mi, al, mem, aOff, lda, packed, gb, mem, yOff, ni, e);
        } else {
            g = () -> Sgemm.gemm(pool, ta, tb, mi, ni, ki, al, mem, aOff, lda, mem, bOff, ldb, gb, mem, yOff, ni, e);
        }
        return then(then(pre, g), post);
    }

    /** out (shape of the layout) = in broadcast. */
    static Step broadcastCopy(KernelPool pool, MemorySegment mem, ZipLayout lay, long in, long out) {
        boolean contiguous = lay.contiguous[0];
        long n = lay.n, rows = lay.rows;
        return () -> {
            for (long r = 0; r < rows; r++) {
                long from = in + lay.rowOffset(0, r), to = out + r * n;
                if (contiguous) Vec.copy(mem, from, mem, to, n);
                else Vec.fill(mem, to, n, Vec.get(mem, from));
            }
        };
    }

    private static Step scaleStep(MemorySegment mem, long at, long n, float s) {
        return () -> {
            for (long i = 0; i < n; i++) Vec.set(mem, at + i, Vec.get(mem, at + i) * s);
        };
    }

    static Step then(Step a, Step b) {
        if (a == null) return b;
        if (b == null) return a;
        return () -> {
            a.run();
            b.run();
        };
    }

    private static long dimFromRight(long[] s, int fromRight) {
        int i = s.length - 1 - fromRight;
        return i >= 0 ? s[i] : 1;
    }

    /** The shape without its leading 1s. */
    static long[] stripOnes(long[] s) {
        int i = 0;
        while (i < s.length - 1 && s[i] == 1) i++;
        return Arrays.copyOfRange(s, i, s.length);
    }
}
