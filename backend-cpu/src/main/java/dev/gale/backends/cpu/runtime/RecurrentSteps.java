package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.PackedB;
import dev.gale.backends.cpu.Scratch;
import dev.gale.backends.cpu.Sgemm;
import dev.gale.backends.cpu.VMath;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.Attrs;
import dev.gale.ir.op.RecurrentOps;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * RNN, GRU and LSTM in float32 (ONNX gate order: RNN {@code i}; GRU {@code z, r, h}; LSTM {@code i, o, f, c}), every
 * direction, both layouts, initial states, clip, LSTM peepholes and {@code input_forget}, GRU's
 * {@code linear_before_reset}. The input projection of every time step is one GEMM per direction
 * ({@code X W^T + Wb + Rb} into a scratch of [rows of X, gates x hidden]); each step then adds {@code H R^T} for the
 * whole batch with one GEMM and applies the gates as vector loops over [batch, hidden]. With {@code sequence_lens},
 * a batch entry's steps past its length leave its state alone and give zeros in Y (a reversed direction starts at
 * the entry's last step). Activations sigmoid, tanh and relu; a node with another activation runs on the interpreter.
 */
final class RecurrentSteps {
    /** Fewest flops of one step's recurrence (batch x gates x hidden^2) per batch slice of its own thread. */
    private static final long MIN_SLICE_FLOPS = 1L << 18;

    private RecurrentSteps() {}

    static void registerAll() {
        NativeOps.register("RNN", c -> build(c, Cell.RNN));
        NativeOps.register("GRU", c -> build(c, Cell.GRU));
        NativeOps.register("LSTM", c -> build(c, Cell.LSTM));
    }

    private enum Cell {
        RNN, GRU, LSTM;

        final int gates = RecurrentOps.gates(name());
        final List<String> defaults = RecurrentOps.defaultActivations(name());
    }

    /** The activations this step computes in vectors. */
    private enum Act {
        SIGMOID, TANH, RELU;

        static Act of(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "sigmoid" -> SIGMOID;
                case "tanh" -> TANH;
                case "relu" -> RELU;
                default -> null;
            };
        }

        /**
         * {@code dst[d..d+n) = act(clip(src[s..s+n)))}: one loop per activation, so that its vector function inlines
         * into a loop of its own (a vector-returning call C2 does not inline boxes its vectors). The loops are named
         * {@code *Loop}, which the launcher's {@code -XX:CompileCommand=dontinline,dev.gale.backends.cpu.*::*Loop}
         * keeps out of their callers: inlined into the step's time loop, the sigmoid's exp ran past C2's budgets and
         * boxed every vector (an LSTM of 50 steps, batch 32, 128 -> 256 took 12-13 ms, 2.4x ONNX Runtime's time).
         * Even compiled alone, one inlined sigmoid takes C2 to its node-count cutoff, past which it inlines no more
         * of the methods it is not made to: the loops store through the Vector API directly (its methods are
         * force-inlined; a {@code Vec.store} helper, since removed, was refused and boxed its argument), and each masked tail, a second
         * copy of the function, is a method of its own.
         */
        void apply(float clip, MemorySegment src, long s, MemorySegment dst, long d, int n) {
            switch (this) {
                case SIGMOID -> sigmoidLoop(clip, src, s, dst, d, n);
                case TANH -> tanhLoop(clip, src, s, dst, d, n);
                case RELU -> reluLoop(clip, src, s, dst, d, n);
            }
        }

        private static void sigmoidLoop(float clip, MemorySegment src, long s, MemorySegment dst, long d, int n) {
            int j = 0;
            for (int end = (int) Vec.bound(n); j < end; j += L) {
                FloatVector v = FloatVector.fromMemorySegment(S, src, (s + j) << 2, ORDER);
                if (clip != Float.POSITIVE_INFINITY) v = v.max(-clip).min(clip);
                VMath.sigmoid(v).intoMemorySegment(dst, (d + j) << 2, ORDER);
            }
            if (j < n) sigmoidTailLoop(clip, src, s, dst, d, j, n);
        }

        /** The last {@code n - j < L} elements of {@link #sigmoidLoop}, compiled on its own as the loops are. */
        private static void sigmoidTailLoop(float clip, MemorySegment src, long s, MemorySegment dst, long d, int j, int n) {
            VectorMask<Float> k = S.indexInRange(j, n);
            FloatVector v = FloatVector.fromMemorySegment(S, src, (s + j) << 2, ORDER, k);
            if (clip != Float.POSITIVE_INFINITY) v = v.max(-clip).min(clip);
            VMath.sigmoid(v).intoMemorySegment(dst, (d + j) << 2, ORDER, k);
        }

        private static void tanhLoop(float clip, MemorySegment src, long s, MemorySegment dst, long d, int n) {
            int j = 0;
            for (int end = (int) Vec.bound(n); j < end; j += L) {
                FloatVector v = FloatVector.fromMemorySegment(S, src, (s + j) << 2, ORDER);
                if (clip != Float.POSITIVE_INFINITY) v = v.max(-clip).min(clip);
                VMath.tanh(v).intoMemorySegment(dst, (d + j) << 2, ORDER);
            }
            if (j < n) tanhTailLoop(clip, src, s, dst, d, j, n);
        }

        /** The last {@code n - j < L} elements of {@link #tanhLoop}, compiled on its own as the loops are. */
        private static void tanhTailLoop(float clip, MemorySegment src, long s, MemorySegment dst, long d, int j, int n) {
            VectorMask<Float> k = S.indexInRange(j, n);
            FloatVector v = FloatVector.fromMemorySegment(S, src, (s + j) << 2, ORDER, k);
            if (clip != Float.POSITIVE_INFINITY) v = v.max(-clip).min(clip);
            VMath.tanh(v).intoMemorySegment(dst, (d + j) << 2, ORDER, k);
        }

        private static void reluLoop(float clip, MemorySegment src, long s, MemorySegment dst, long d, int n) {
            int j = 0;
            for (int end = (int) Vec.bound(n); j < end; j += L) {
                FloatVector v = FloatVector.fromMemorySegment(S, src, (s + j) << 2, ORDER);
                if (clip != Float.POSITIVE_INFINITY) v = v.max(-clip).min(clip);
                v.max(0f).intoMemorySegment(dst, (d + j) << 2, ORDER);
            }
            for (; j < n; j++) Vec.set(dst, d + j, Math.max(0f, Math.max(-clip, Math.min(clip, Vec.get(src, s + j)))));
        }
    }

    /** Everything a run needs, fixed when the plan is built; offsets are in floats. */
    private record Layer(Cell cell, int dirs, boolean reverseOnly, boolean batchFirst, int seq, int batch, int in,
                         int h, Act[][] act, float clip, boolean linearBeforeReset, boolean inputForget,
                         long x, long w, long r, long b, long h0, long c0, long p, long y, long yh, long yc, int lensBox,
                         MemorySegment xw, MemorySegment gates, MemorySegment hs, MemorySegment cs,
                         MemorySegment rh, MemorySegment bias, PackedB[][] packedR, int slices) {
        int gh() { return cell.gates * h; }

        /** Row of X (and of the projection) holding time step {@code t} of batch entry {@code n}. */
        long row(int t, int n) { return batchFirst ? (long) n * seq + t : (long) t * batch + n; }

        /** Offset of a state vector (initial_h, Y_h...) of direction {@code d}, batch entry {@code n}. */
        long state(int d, int n) { return batchFirst ? ((long) n * dirs + d) * h : ((long) d * batch + n) * h; }

        /** Offset of Y's vector for step {@code t}, direction {@code d}, batch entry {@code n}. */
        long yAt(int t, int d, int n) {
            return batchFirst ? (((long) n * seq + t) * dirs + d) * h : (((long) t * dirs + d) * batch + n) * h;
        }
    }

    private static Step build(EmitContext c, Cell cell) {
        for (int i = 0; i < c.numInputs(); i++) if (i != 4 && c.has(i) && !c.arenaIn(i)) return null;
        for (int i = 0; i < c.numOutputs(); i++) if (c.out(i) != null && !c.out(i).inArena()) return null;
        Slot lens = c.in(4);
        if (lens != null && (lens.inArena() || lens.box < 0 || lens.dtype != DType.INT32)) return null;
        Slot x = c.in(0), w = c.in(1), r = c.in(2);
        if (x == null || w == null || r == null || x.rank() != 3 || w.rank() != 3 || r.rank() != 3) return null;
        int dirs;
        try {
            dirs = RecurrentOps.directions(c.attrString("direction"), IllegalArgumentException::new);
        } catch (IllegalArgumentException e) {
            return null;
        }
        long layout = c.attrInt("layout");
        if (layout != 0 && layout != 1) return null;
        boolean batchFirst = layout == 1;
        long seq = x.dim(batchFirst ? 1 : 0), batch = x.dim(batchFirst ? 0 : 1), in = x.dim(2), h = r.dim(2);
        int g = cell.gates;
        // The projection of every step is held at once: up to 1 GiB of it, past which the interpreter's steps serve.
        if (seq < 1 || batch < 1 || in < 1 || h < 1 || (long) g * h * Math.max(seq * batch, h) > 1L << 28) return null;
        if (c.hasAttr("hidden_size") && c.attrInt("hidden_size") != h) return null;
        if (w.dim(0) != dirs || w.dim(1) != g * h || w.dim(2) != in || r.dim(0) != dirs || r.dim(1) != g * h) return null;
        if (lens != null && (lens.shape == null || lens.numel != batch)) return null;
        if (c.has(3) && (c.in(3).rank() != 2 || c.in(3).dim(0) != dirs || c.in(3).dim(1) != 2L * g * h)) return null;
        long stateNumel = (long) dirs * batch * h;
        for (int i = 5; i <= (cell == Cell.LSTM ? 6 : 5); i++)
            if (c.has(i) && c.in(i).numel != stateNumel) return null;
        if (cell == Cell.LSTM && c.has(7) && c.in(7).numel != 3L * dirs * h) return null;
        Act[][] act = activations(c, cell, dirs);
        if (act == null) return null;
        float clip = c.hasAttr("clip") ? c.attrFloat("clip") : Float.POSITIVE_INFINITY;
        if (!(clip > 0)) return null;
        Slot y = c.out(0), yh = c.out(1), yc = cell == Cell.LSTM ? c.out(2) : null;
        int gh = g * (int) h;
        Layer l = new Layer(cell, dirs, c.attrString("direction").equals("reverse"), batchFirst, (int) seq,
                (int) batch, (int) in, (int) h, act, clip, cell == Cell.GRU && c.attrInt("linear_before_reset") != 0,
                cell == Cell.LSTM && c.attrInt("input_forget") != 0, x.offset, w.offset, r.offset,
                c.has(3) ? c.in(3).offset : -1, c.has(5) ? c.in(5).offset : -1,
                cell == Cell.LSTM && c.has(6) ? c.in(6).offset : -1, cell == Cell.LSTM && c.has(7) ? c.in(7).offset : -1,
                y == null ? -1 : y.offset, yh == null ? -1 : yh.offset, yc == null ? -1 : yc.offset,
                lens == null ? -1 : lens.box,
                c.scratch(seq * batch * gh), c.scratch(batch * gh), c.scratch(batch * h), c.scratch(batch * h),
                c.scratch(batch * h), c.scratch(gh), packR(c.constant(2), cell, dirs, (int) h),
                (int) Math.min(Math.min(c.pool.threads(), batch), Math.max(1, batch * gh * h / MIN_SLICE_FLOPS)));
        MemorySegment m = c.mem;
        KernelPool pool = c.pool;
        Object[] boxes = c.boxes;
        int[] len = new int[(int) batch];
        EmitContext.Where where = c.where();
        return () -> {
            lengths(l, boxes, len, where);
            if (l.y >= 0 && l.lensBox >= 0) Vec.fill(m, l.y, (long) l.seq * l.dirs * l.batch * l.h, 0f);
            for (int d = 0; d < l.dirs; d++) direction(l, m, pool, d, len);
        };
    }

    /** Each batch entry's sequence length: sequence_lens, checked, or the whole sequence. */
    private static void lengths(Layer l, Object[] boxes, int[] len, EmitContext.Where where) {
        if (l.lensBox < 0) {
            Arrays.fill(len, l.seq);
            return;
        }
        int[] given = (int[]) ((Tensor) boxes[l.lensBox]).data();
        for (int n = 0; n < l.batch; n++) {
            if (given[n] < 0 || given[n] > l.seq)
                throw where.error("sequence_lens[" + n + "] = " + given[n] + " is outside [0, " + l.seq + "]");
            len[n] = given[n];
        }
    }

    /**
     * R of each direction packed as the right operand of {@code H R^T} (for the GRU its z and r rows, then its h
     * rows), when R is a constant; null to pack it on every run.
     */
    private static PackedB[][] packR(Tensor r, Cell cell, int dirs, int h) {
        if (r == null || r.dtype() != DType.FLOAT32) return null;
        MemorySegment seg = MemorySegment.ofArray((float[]) r.data());
        PackedB[][] out = new PackedB[dirs][];
        for (int d = 0; d < dirs; d++) out[d] = packR(seg, (long) d * cell.gates * h * h, cell, h);
        return out;
    }

    private static PackedB[] packR(MemorySegment r, long off, Cell cell, int h) {
        if (cell != Cell.GRU) return new PackedB[] {PackedB.pack(true, r, off, h, h, cell.gates * h)};
        return new PackedB[] {PackedB.pack(true, r, off, h, h, 2 * h), PackedB.pack(true, r, off + 2L * h * h, h, h, h)};
    }

    /** The activations of each direction, or null when one is outside {@link Act}. */
    private static Act[][] activations(EmitContext c, Cell cell, int dirs) {
        var a = c.attr("activations");
        List<String> names = cell.defaults;
        if (a != null) {
            names = Attrs.asStrings(a, c.node, "activations");
            if (names.size() != cell.defaults.size() && names.size() != cell.defaults.size() * dirs) return null;
        }
        int per = cell.defaults.size();
        Act[][] out = new Act[dirs][per];
        for (int d = 0; d < dirs; d++)
            for (int k = 0; k < per; k++) {
                Act f = Act.of(names.get(names.size() == per ? k : d * per + k));
                if (f == null) return null;
                out[d][k] = f;
            }
        return out;
    }

    private static void direction(Layer l, MemorySegment m, KernelPool pool, int d, int[] len) {
        int h = l.h, gh = l.gh(), batch = l.batch;
        boolean reverse = l.reverseOnly || d == 1;
        long wOff = l.w + (long) d * gh * l.in, rOff = l.r + (long) d * gh * h, bOff = l.b + (long) d * 2 * gh;
        // The projection's bias: Wb + Rb, except the GRU's Rbh with linear_before_reset, which the reset gate scales.
        MemorySegment bias = l.bias;
        for (int j = 0; j < gh; j++) {
            float v = 0;
            if (l.b >= 0) {
                v = Vec.get(m, bOff + j);
                if (!(l.linearBeforeReset && j >= 2 * h)) v += Vec.get(m, bOff + gh + j);
            }
            Vec.set(bias, j, v);
        }
        Sgemm.gemm(pool, false, true, l.seq * batch, gh, l.in, 1f, m, l.x, l.in, m, wOff, l.in, 0f, l.xw, 0, gh,
                Epilogue.NONE.withColumnBias(bias, 0));
        for (int n = 0; n < batch; n++) {
            if (l.h0 >= 0) Vec.copy(m, l.h0 + l.state(d, n), l.hs, (long) n * h, h);
            else Vec.fill(l.hs, (long) n * h, h, 0f);
            if (l.cell == Cell.LSTM) {
                if (l.c0 >= 0) Vec.copy(m, l.c0 + l.state(d, n), l.cs, (long) n * h, h);
                else Vec.fill(l.cs, (long) n * h, h, 0f);
            }
        }
        Act[] act = l.act[d];
        PackedB[] pr = l.packedR != null ? l.packedR[d] : packR(m, rOff, l.cell, h);
        // Slices of the batch, one a thread, each through every step on its own: no wait between the recurrence's
        // products and the gates.
        int parts = l.slices;
        pool.parallelFor(parts, (piece, scratch) -> slice(l, m, scratch, d, reverse, act, pr, bOff, len,
                (int) ((long) piece * batch / parts), (int) ((long) (piece + 1) * batch / parts)));
        for (int n = 0; n < batch; n++) {
            if (l.yh >= 0) Vec.copy(l.hs, (long) n * h, m, l.yh + l.state(d, n), h);
            if (l.yc >= 0) Vec.copy(l.cs, (long) n * h, m, l.yc + l.state(d, n), h);
        }
    }

    /** Batch entries {@code [n0, n1)} of direction {@code d} through all their steps, on one thread. */
    private static void slice(Layer l, MemorySegment m, Scratch scratch, int d, boolean reverse, Act[] act,
                              PackedB[] pr, long bOff, int[] len, int n0, int n1) {
        int h = l.h, gh = l.gh(), rows = n1 - n0;
        if (rows <= 0) return;
        int steps = 0;
        for (int n = n0; n < n1; n++) steps = Math.max(steps, len[n]);
        for (int s = 0; s < steps; s++) {
            // Entry n's step s is its time t = s, or len - 1 - s reversed; an entry past its length computes a row
            // that is not kept.
            for (int n = n0; n < n1; n++) {
                int t = Math.min(s, len[n] - 1);
                if (reverse) t = len[n] - 1 - t;
                if (t >= 0) Vec.copy(l.xw, l.row(t, n) * gh, l.gates, (long) n * gh, gh);
            }
            Sgemm.gemmSerial(scratch, false, rows, 1f, l.hs, (long) n0 * h, h, pr[0], 1f, l.gates, (long) n0 * gh, gh,
                    Epilogue.NONE);
            if (l.cell == Cell.GRU) gru(l, m, scratch, act, pr[1], bOff, n0, n1);
            for (int n = n0; n < n1; n++) {
                if (s >= len[n]) continue;
                long gr = (long) n * gh, st = (long) n * h;
                switch (l.cell) {
                    case RNN -> rnnRow(l, act, gr, st);
                    case GRU -> gruRow(l, act, gr, st);
                    case LSTM -> lstmRow(l, m, act, d, gr, st);
                }
                if (l.y >= 0) Vec.copy(l.hs, st, m, l.y + l.yAt(reverse ? len[n] - 1 - s : s, d, n), h);
            }
        }
    }

    /**
     * The GRU's hidden gate before its activation, for entries {@code [n0, n1)}, into columns [2h, 3h) of the gates:
     * {@code + r (.) (H Rh^T + Rbh)} with linear_before_reset, else {@code + (r (.) H) Rh^T} (Rbh is in the
     * projection's bias). The reset gate r goes into columns [h, 2h) first, activated.
     */
    private static void gru(Layer l, MemorySegment m, Scratch scratch, Act[] act, PackedB rH, long bOff, int n0,
                            int n1) {
        int h = l.h, gh = l.gh(), rows = n1 - n0;
        for (int n = n0; n < n1; n++) act[0].apply(l.clip, l.gates, (long) n * gh + h, l.gates, (long) n * gh + h, h);
        if (l.linearBeforeReset) {
            Epilogue ep = l.b >= 0 ? Epilogue.NONE.withColumnBias(m, bOff + gh + 2L * h) : Epilogue.NONE;
            Sgemm.gemmSerial(scratch, false, rows, 1f, l.hs, (long) n0 * h, h, rH, 0f, l.rh, (long) n0 * h, h, ep);
            for (int n = n0; n < n1; n++)
                fma(l.gates, (long) n * gh + h, l.rh, (long) n * h, l.gates, (long) n * gh + 2L * h, h);
            return;
        }
        for (int n = n0; n < n1; n++) mul(l.gates, (long) n * gh + h, l.hs, (long) n * h, l.rh, (long) n * h, h);
        Sgemm.gemmSerial(scratch, false, rows, 1f, l.rh, (long) n0 * h, h, rH, 1f, l.gates, (long) n0 * gh + 2L * h, gh,
                Epilogue.NONE);
    }

    private static void rnnRow(Layer l, Act[] act, long gr, long st) { act[0].apply(l.clip, l.gates, gr, l.hs, st, l.h); }

    /** h = (1 - z) cand + z h, with z and cand activated in place in the gates. */
    private static void gruRow(Layer l, Act[] act, long gr, long st) {
        int h = l.h;
        act[0].apply(l.clip, l.gates, gr, l.gates, gr, h);
        act[1].apply(l.clip, l.gates, gr + 2L * h, l.gates, gr + 2L * h, h);
        MemorySegment g = l.gates, hs = l.hs;
        int j = 0;
        for (int end = (int) Vec.bound(h); j < end; j += L) {
            FloatVector z = FloatVector.fromMemorySegment(S, g, (gr + j) << 2, ORDER), cand =
                    FloatVector.fromMemorySegment(S, g, (gr + 2L * h + j) << 2, ORDER);
            z.fma(FloatVector.fromMemorySegment(S, hs, (st + j) << 2, ORDER).sub(cand), cand)
                    .intoMemorySegment(hs, (st + j) << 2, ORDER);
        }
        for (; j < h; j++) {
            float z = Vec.get(g, gr + j), cand = Vec.get(g, gr + 2L * h + j);
            Vec.set(hs, st + j, z * (Vec.get(hs, st + j) - cand) + cand);
        }
    }

    /** c = f c + i cand, h = o act(c), with the peepholes; the gates are activated in place. */
    private static void lstmRow(Layer l, MemorySegment m, Act[] act, int d, long gr, long st) {
        int h = l.h;
        long p = l.p >= 0 ? l.p + 3L * h * d : -1;
        MemorySegment g = l.gates, cs = l.cs;
        if (p >= 0) {
            fma(m, p, cs, st, g, gr, h);
            fma(m, p + 2L * h, cs, st, g, gr + 2L * h, h);
        }
        act[0].apply(l.clip, g, gr, g, gr, h);
        if (l.inputForget) oneMinus(g, gr, g, gr + 2L * h, h);
        else act[0].apply(l.clip, g, gr + 2L * h, g, gr + 2L * h, h);
        act[1].apply(l.clip, g, gr + 3L * h, g, gr + 3L * h, h);
        int j = 0;
        for (int end = (int) Vec.bound(h); j < end; j += L) {
            FloatVector i = FloatVector.fromMemorySegment(S, g, (gr + j) << 2, ORDER), f =
                    FloatVector.fromMemorySegment(S, g, (gr + 2L * h + j) << 2, ORDER),
                    cand = FloatVector.fromMemorySegment(S, g, (gr + 3L * h + j) << 2, ORDER);
            f.mul(FloatVector.fromMemorySegment(S, cs, (st + j) << 2, ORDER)).add(i.mul(cand))
                    .intoMemorySegment(cs, (st + j) << 2, ORDER);
        }
        for (; j < h; j++) {
            float i = Vec.get(g, gr + j), f = Vec.get(g, gr + 2L * h + j), cand = Vec.get(g, gr + 3L * h + j);
            Vec.set(cs, st + j, f * Vec.get(cs, st + j) + i * cand);
        }
        if (p >= 0) fma(m, p + h, cs, st, g, gr + h, h);
        act[0].apply(l.clip, g, gr + h, g, gr + h, h);
        act[2].apply(Float.POSITIVE_INFINITY, cs, st, l.hs, st, h);
        mul(g, gr + h, l.hs, st, l.hs, st, h);
    }

    /** {@code c[cz..cz+n) += a[az..) * b[bz..)}. */
    private static void fma(MemorySegment a, long az, MemorySegment b, long bz, MemorySegment c, long cz, int n) {
        int j = 0;
        for (int end = (int) Vec.bound(n); j < end; j += L)
            FloatVector.fromMemorySegment(S, a, (az + j) << 2, ORDER).fma(FloatVector.fromMemorySegment(S, b,
                    (bz + j) << 2, ORDER), FloatVector.fromMemorySegment(S, c, (cz + j) << 2, ORDER))
                    .intoMemorySegment(c, (cz + j) << 2, ORDER);
        for (; j < n; j++) Vec.set(c, cz + j, Vec.get(a, az + j) * Vec.get(b, bz + j) + Vec.get(c, cz + j));
    }

    /** {@code c[cz..cz+n) = a[az..) * b[bz..)}. */
    private static void mul(MemorySegment a, long az, MemorySegment b, long bz, MemorySegment c, long cz, int n) {
        int j = 0;
        for (int end = (int) Vec.bound(n); j < end; j += L) FloatVector.fromMemorySegment(S, a, (az + j) << 2, ORDER)
                .mul(FloatVector.fromMemorySegment(S, b, (bz + j) << 2, ORDER))
                .intoMemorySegment(c, (cz + j) << 2, ORDER);
        for (; j < n; j++) Vec.set(c, cz + j, Vec.get(a, az + j) * Vec.get(b, bz + j));
    }

    /** {@code c[cz..cz+n) = 1 - a[az..)}. */
    private static void oneMinus(MemorySegment a, long az, MemorySegment c, long cz, int n) {
        int j = 0;
        for (int end = (int) Vec.bound(n); j < end; j += L) FloatVector.fromMemorySegment(S, a, (az + j) << 2, ORDER)
                .neg().add(1f)
                .intoMemorySegment(c, (cz + j) << 2, ORDER);
        for (; j < n; j++) Vec.set(c, cz + j, 1f - Vec.get(a, az + j));
    }
}
