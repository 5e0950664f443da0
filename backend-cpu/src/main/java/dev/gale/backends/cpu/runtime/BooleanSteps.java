package dev.gale.backends.cpu.runtime;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * Comparisons (float32 operands into booleans) and Where (booleans choosing between float32 operands). Booleans
 * live in boxes as byte arrays, one byte per element; in the vector loops they are byte lanes matched one to one
 * with the float lanes.
 */
final class BooleanSteps {
    /** Bytes, one per float lane (booleans as the comparisons write them); null when no such shape exists. */
    private static final VectorSpecies<Byte> B = byteLanes();

    private BooleanSteps() {}

    private static VectorSpecies<Byte> byteLanes() {
        try {
            return VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static void registerAll() {
        for (String op : new String[] {"Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal"})
            NativeOps.register(op, BooleanSteps::compare);
        NativeOps.register("Where", BooleanSteps::where);
        NativeOps.inPlace("Where");
    }

    private static Step compare(EmitContext c) {
        if (!c.arenaIn(0) || !c.arenaIn(1) || c.out(0) == null || c.out(0).inArena() || c.out(0).shape == null
                || c.out(0).dtype != DType.BOOL) return null;
        Slot a = c.in(0), b = c.in(1), o = c.out(0);
        ZipLayout lay = ZipLayout.of(o.shape, a.shape, b.shape);
        if (lay == null) return null;
        byte[] out = (byte[]) c.ownedOutput(0).data();
        MemorySegment m = c.mem;
        int kind = switch (c.op()) {
            case "Greater" -> 0;
            case "Less" -> 1;
            case "GreaterOrEqual" -> 2;
            case "LessOrEqual" -> 3;
            default -> 4;
        };
        long ao = a.offset, bo = b.offset, n = lay.n, rows = lay.rows;
        boolean ca = lay.contiguous[0], cb = lay.contiguous[1];
        // Split across the pool as the elementwise steps are (Where too).
        return ElementwiseSteps.split(c.pool, rows, n,
                (from, to) -> compareRow(m, kind, ca ? ao + from : ao, ca, cb ? bo + from : bo, cb, out, (int) from,
                        (int) (to - from)),
                (r0, r1) -> {
                    for (long r = r0; r < r1; r++)
                        compareRow(m, kind, ao + lay.rowOffset(0, r), ca, bo + lay.rowOffset(1, r), cb, out,
                                (int) (r * n), (int) n);
                });
    }

    /** out[k] = a[k] op b[k] as 0 / 1 bytes over a row; operands that repeat one value have their flag false. */
    private static void compareRow(MemorySegment m, int kind, long pa, boolean ca,
                                   long pb, boolean cb, byte[] out, int base, int n) {
        int k = B == null ? 0 : compareLoop(m, kind, pa, ca, pb, cb, out, base, (int) Vec.bound(n));
        for (; k < n; k++) {
            float x = Vec.get(m, ca ? pa + k : pa), y = Vec.get(m, cb ? pb + k : pb);
            boolean v = switch (kind) {
                case 0 -> x > y;
                case 1 -> x < y;
                case 2 -> x >= y;
                case 3 -> x <= y;
                default -> x == y;
            };
            out[base + k] = v ? (byte) 1 : 0;
        }
    }

    /**
     * The vector part of {@link #compareRow} up to {@code bound}, returned: one loop per comparison (the operator must
     * be a constant for the JIT to compile it to an instruction), an operand that repeats one value broadcast in the
     * loop, in a method of its own under the launcher's {@code dontinline *::*Loop}.
     */
    private static int compareLoop(MemorySegment m, int kind, long pa, boolean ca, long pb, boolean cb, byte[] out,
                                   int base, int bound) {
        if (bound <= 0) return 0;
        float as = Vec.get(m, pa), bs = Vec.get(m, pb);
        int k = 0;
        switch (kind) {
            case 0 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? FloatVector.fromMemorySegment(S, m, (pa + k) << 2, ORDER)
                            : FloatVector.broadcast(S, as);
                    FloatVector bv = cb ? FloatVector.fromMemorySegment(S, m, (pb + k) << 2, ORDER)
                            : FloatVector.broadcast(S, bs);
                    VectorMask<Byte> t = av.compare(VectorOperators.GT, bv).cast(B);
                    ByteVector.zero(B).blend((byte) 1, t).intoArray(out, base + k);
                }
            }
            case 1 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? FloatVector.fromMemorySegment(S, m, (pa + k) << 2, ORDER)
                            : FloatVector.broadcast(S, as);
                    FloatVector bv = cb ? FloatVector.fromMemorySegment(S, m, (pb + k) << 2, ORDER)
                            : FloatVector.broadcast(S, bs);
                    VectorMask<Byte> t = av.compare(VectorOperators.LT, bv).cast(B);
                    ByteVector.zero(B).blend((byte) 1, t).intoArray(out, base + k);
                }
            }
            case 2 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? FloatVector.fromMemorySegment(S, m, (pa + k) << 2, ORDER)
                            : FloatVector.broadcast(S, as);
                    FloatVector bv = cb ? FloatVector.fromMemorySegment(S, m, (pb + k) << 2, ORDER)
                            : FloatVector.broadcast(S, bs);
                    VectorMask<Byte> t = av.compare(VectorOperators.GE, bv).cast(B);
                    ByteVector.zero(B).blend((byte) 1, t).intoArray(out, base + k);
                }
            }
            case 3 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? FloatVector.fromMemorySegment(S, m, (pa + k) << 2, ORDER)
                            : FloatVector.broadcast(S, as);
                    FloatVector bv = cb ? FloatVector.fromMemorySegment(S, m, (pb + k) << 2, ORDER)
                            : FloatVector.broadcast(S, bs);
                    VectorMask<Byte> t = av.compare(VectorOperators.LE, bv).cast(B);
                    ByteVector.zero(B).blend((byte) 1, t).intoArray(out, base + k);
                }
            }
            case 4 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? FloatVector.fromMemorySegment(S, m, (pa + k) << 2, ORDER)
                            : FloatVector.broadcast(S, as);
                    FloatVector bv = cb ? FloatVector.fromMemorySegment(S, m, (pb + k) << 2, ORDER)
                            : FloatVector.broadcast(S, bs);
                    VectorMask<Byte> t = av.compare(VectorOperators.EQ, bv).cast(B);
                    ByteVector.zero(B).blend((byte) 1, t).intoArray(out, base + k);
                }
            }
            default -> throw new IllegalStateException("comparison " + kind);
        }
        return k;
    }

    private static Step where(EmitContext c) {
        Slot cond = c.in(0), o = c.out(0);
        if (cond == null || cond.inArena() || cond.dtype != DType.BOOL || cond.shape == null || !c.arenaIn(1)
                || !c.arenaIn(2) || o == null || !o.inArena()) return null;
        Slot x = c.in(1), y = c.in(2);
        ZipLayout lay = ZipLayout.of(o.shape, cond.shape, x.shape, y.shape);
        if (lay == null) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        int box = cond.box;
        long xo = x.offset, yo = y.offset, oo = o.offset, n = lay.n, rows = lay.rows;
        boolean cc = lay.contiguous[0], cx = lay.contiguous[1], cy = lay.contiguous[2];
        // Split across the pool as the elementwise steps are: a ReLU gradient's select of [8, 64, 512] took 0.15 ms a
        // training step on one thread.
        return ElementwiseSteps.split(c.pool, rows, n,
                (from, to) -> selectRow(m, (byte[]) ((Tensor) boxes[box]).data(), (int) (cc ? from : 0), cc,
                        cx ? xo + from : xo, cx, cy ? yo + from : yo, cy, oo + from, (int) (to - from)),
                (r0, r1) -> {
                    byte[] b = (byte[]) ((Tensor) boxes[box]).data();
                    for (long r = r0; r < r1; r++)
                        selectRow(m, b, (int) lay.rowOffset(0, r), cc, xo + lay.rowOffset(1, r), cx,
                                yo + lay.rowOffset(2, r), cy, oo + r * n, (int) n);
                });
    }

    /** out[k] = cond[k] ? x[k] : y[k] over a row; operands that repeat one value have their flag false. */
    static void selectRow(MemorySegment m, byte[] b, int pc, boolean cc, long px, boolean cx, long py, boolean cy,
                          long po, int n) {
        int k = cc && B != null ? selectLoop(m, b, pc, px, cx, py, cy, po, (int) Vec.bound(n)) : 0;
        for (; k < n; k++) {
            boolean t = b[cc ? pc + k : pc] != 0;
            Vec.set(m, po + k, t ? Vec.get(m, cx ? px + k : px) : Vec.get(m, cy ? py + k : py));
        }
    }

    /**
     * The vector part of {@link #selectRow} up to {@code bound}, returned. A method of its own under the launcher's
     * {@code dontinline *::*Loop}, compiled alone with its vectors in registers; an operand that repeats one value is
     * broadcast in the loop, not carried across iterations (which C2 may keep boxed).
     */
    private static int selectLoop(MemorySegment m, byte[] b, int pc, long px, boolean cx, long py, boolean cy, long po,
                                  int bound) {
        if (bound <= 0) return 0;
        float xs = Vec.get(m, px), ys = Vec.get(m, py);
        int k = 0;
        for (; k < bound; k += L) {
            VectorMask<Float> t = ByteVector.fromArray(B, b, pc + k).compare(VectorOperators.NE, 0).cast(S);
            FloatVector xv = cx ? FloatVector.fromMemorySegment(S, m, (px + k) << 2, ORDER)
                    : FloatVector.broadcast(S, xs);
            FloatVector yv = cy ? FloatVector.fromMemorySegment(S, m, (py + k) << 2, ORDER)
                    : FloatVector.broadcast(S, ys);
            yv.blend(xv, t).intoMemorySegment(m, (po + k) << 2, ORDER);
        }
        return k;
    }
}
