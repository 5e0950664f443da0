package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * Elementwise float32 ops as Vector API loops over the arena: unary math and activations, binary arithmetic with
 * broadcasting ({@link ZipLayout}), comparisons and Where, and the Dropout / Cast cases that only move data. Each op
 * is an opcode, so that one loop serves all of them while the JIT still sees constant vector operations in each
 * branch; large tensors are split across the kernel pool. Every loop reads element i of a same-shaped operand
 * before writing element i of the output, so these steps are safe in place.
 */
final class ElementwiseSteps {
    /** Below this many elements an op runs on the calling thread. */
    static final long PARALLEL_MIN = 1 << 16;

    // unary opcodes
    static final int NEG = 0, ABS = 1, RELU = 2, EXP = 3, LOG = 4, SQRT = 5, RECIPROCAL = 6, SIGMOID = 7, TANH = 8,
            ERF = 9, GELU = 10, GELU_TANH = 11, SOFTPLUS = 12, SOFTSIGN = 13, LEAKY_RELU = 14, ELU = 15, SELU = 16,
            HARD_SIGMOID = 17, HARD_SWISH = 18, THRESHOLDED_RELU = 19, CELU = 20, CLIP = 21, IDENTITY = 22, SIN = 23,
            COS = 24;
    // binary opcodes
    static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3, POW = 4, MAX = 5, MIN = 6, PRELU = 7;

    /** Bytes, one per float lane (booleans as the comparisons write them); null when no such shape exists. */
    private static final VectorSpecies<Byte> B = byteLanes();
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1 / Math.sqrt(2));

    private ElementwiseSteps() {}

    private static VectorSpecies<Byte> byteLanes() {
        try {
            return VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static void registerAll() {
        unary("Neg", NEG);
        unary("Abs", ABS);
        unary("Relu", RELU);
        unary("Exp", EXP);
        unary("Log", LOG);
        unary("Sqrt", SQRT);
        unary("Reciprocal", RECIPROCAL);
        unary("Sigmoid", SIGMOID);
        unary("Tanh", TANH);
        unary("Erf", ERF);
        unary("Softplus", SOFTPLUS);
        unary("Softsign", SOFTSIGN);
        unary("HardSwish", HARD_SWISH);
        unary("Sin", SIN);
        unary("Cos", COS);
        unaryWith("LeakyRelu", LEAKY_RELU, "alpha", null);
        unaryWith("Elu", ELU, "alpha", null);
        unaryWith("Selu", SELU, "alpha", "gamma");
        unaryWith("HardSigmoid", HARD_SIGMOID, "alpha", "beta");
        unaryWith("ThresholdedRelu", THRESHOLDED_RELU, "alpha", null);
        unaryWith("Celu", CELU, "alpha", null);
        NativeOps.register("Gelu", c -> switch (c.attrString("approximate")) {
            case "none" -> unaryStep(c, GELU, 0, 0);
            case "tanh" -> unaryStep(c, GELU_TANH, 0, 0);
            default -> null;
        });
        NativeOps.inPlace("Gelu");
        NativeOps.register("Clip", ElementwiseSteps::clip);
        NativeOps.inPlace("Clip");
        NativeOps.register("Dropout", ElementwiseSteps::dropout);
        NativeOps.register("Cast", ElementwiseSteps::cast);

        binary("Add", ADD);
        binary("Sub", SUB);
        binary("Mul", MUL);
        binary("Div", DIV);
        binary("Pow", POW);
        binary("PRelu", PRELU);
        binary("Max", MAX);
        binary("Min", MIN);
        binary("Sum", ADD);
        for (String op : new String[] {"Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal"})
            NativeOps.register(op, ElementwiseSteps::compare);
        NativeOps.register("Where", ElementwiseSteps::where);
        NativeOps.inPlace("Where");
    }

    private static void unary(String op, int opc) {
        NativeOps.register(op, c -> unaryStep(c, opc, 0, 0));
        NativeOps.inPlace(op);
    }

    private static void unaryWith(String op, int opc, String a1, String a2) {
        NativeOps.register(op, c -> unaryStep(c, opc, c.attrFloat(a1), a2 == null ? 0 : c.attrFloat(a2)));
        NativeOps.inPlace(op);
    }

    private static void binary(String op, int opc) {
        NativeOps.register(op, c -> c.numInputs() == 2 ? zipStep(c, opc) : null);
        NativeOps.inPlace(op);
    }

    // ---- unary

    static Step unaryStep(EmitContext c, int opc, float p1, float p2) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.allArena() || c.in(0).numel != c.out(0).numel) return null;
        return mapStep(c.pool, c.mem, opc, p1, p2, c.in(0).offset, c.out(0).offset, c.out(0).numel);
    }

    /** out[i] = f(x[i]) for n elements. */
    static Step mapStep(KernelPool pool, MemorySegment m, int opc, float p1, float p2, long x, long out, long n) {
        int tasks = tasks(pool, n);
        if (tasks == 1) return () -> map(m, opc, p1, p2, x, out, n);
        long chunk = chunk(n, tasks);
        KernelPool.Task t = (i, s) -> {
            long from = i * chunk, to = Math.min(n, from + chunk);
            if (from < to) map(m, opc, p1, p2, x + from, out + from, to - from);
        };
        return () -> pool.parallelFor(tasks, t);
    }

    /**
     * out[i] = f(x[i]) for n elements. One loop per op, so that each loop's vector operations are constants the JIT
     * compiles to instructions (a shared loop calling a switch would keep the vectors as objects).
     */
    static void map(MemorySegment m, int opc, float p1, float p2, long x, long out, long n) {
        long k = 0, b = Vec.bound(n);
        switch (opc) {
            case NEG -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.neg(), m, out + k);
                }
            }
            case ABS -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.abs(), m, out + k);
                }
            }
            case RELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(FloatVector.zero(S).blend(v, v.compare(VectorOperators.GT, 0f)), m, out + k);
                }
            }
            case EXP -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.EXP), m, out + k);
                }
            }
            case LOG -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.LOG), m, out + k);
                }
            }
            case SQRT -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.sqrt(), m, out + k);
                }
            }
            case RECIPROCAL -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(FloatVector.broadcast(S, 1f).div(v), m, out + k);
                }
            }
            case SIGMOID -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(sigmoid(v), m, out + k);
                }
            }
            case TANH -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.TANH), m, out + k);
                }
            }
            case ERF -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(Vec.erf(v), m, out + k);
                }
            }
            case GELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.mul(normalCdf(v)), m, out + k);
                }
            }
            case GELU_TANH -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(geluTanh(v), m, out + k);
                }
            }
            case SOFTPLUS -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.max(0f).add(v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P)), m, out + k);
                }
            }
            case SOFTSIGN -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.div(v.abs().add(1f)), m, out + k);
                }
            }
            case LEAKY_RELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.mul(p1).blend(v, v.compare(VectorOperators.GE, 0f)), m, out + k);
                }
            }
            case ELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.EXPM1).mul(p1).blend(v, v.compare(VectorOperators.GE, 0f)), m, out + k);
                }
            }
            case SELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.EXPM1).mul(p1 * p2).blend(v.mul(p2), v.compare(VectorOperators.GT, 0f)), m, out + k);
                }
            }
            case HARD_SIGMOID -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.mul(p1).add(p2).max(0f).min(1f), m, out + k);
                }
            }
            case HARD_SWISH -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.mul(v.div(6f).add(0.5f).max(0f).min(1f)), m, out + k);
                }
            }
            case THRESHOLDED_RELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(FloatVector.zero(S).blend(v, v.compare(VectorOperators.GT, p1)), m, out + k);
                }
            }
            case CELU -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.max(0f).add(v.div(p1).lanewise(VectorOperators.EXPM1).mul(p1).min(0f)), m, out + k);
                }
            }
            case CLIP -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.max(p1).min(p2), m, out + k);
                }
            }
            case IDENTITY -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v, m, out + k);
                }
            }
            case SIN -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.SIN), m, out + k);
                }
            }
            case COS -> {
                for (; k < b; k += L) {
                    FloatVector v = Vec.load(m, x + k);
                    Vec.store(v.lanewise(VectorOperators.COS), m, out + k);
                }
            }
            default -> throw new IllegalStateException("unary opcode " + opc);
        }
        for (; k < n; k++) Vec.set(m, out + k, apply(opc, Vec.get(m, x + k), p1, p2));
    }

    static FloatVector apply(int opc, FloatVector v, float p1, float p2) {
        return switch (opc) {
            case NEG -> v.neg();
            case ABS -> v.abs();
            case RELU -> FloatVector.zero(S).blend(v, v.compare(VectorOperators.GT, 0f));
            case EXP -> v.lanewise(VectorOperators.EXP);
            case LOG -> v.lanewise(VectorOperators.LOG);
            case SQRT -> v.sqrt();
            case RECIPROCAL -> FloatVector.broadcast(S, 1f).div(v);
            case SIGMOID -> sigmoid(v);
            case TANH -> v.lanewise(VectorOperators.TANH);
            case ERF -> Vec.erf(v);
            case GELU -> v.mul(normalCdf(v));
            case GELU_TANH -> geluTanh(v);
            case SOFTPLUS -> v.max(0f).add(v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
            case SOFTSIGN -> v.div(v.abs().add(1f));
            case LEAKY_RELU -> v.mul(p1).blend(v, v.compare(VectorOperators.GE, 0f));
            case ELU -> v.lanewise(VectorOperators.EXPM1).mul(p1).blend(v, v.compare(VectorOperators.GE, 0f));
            case SELU -> v.lanewise(VectorOperators.EXPM1).mul(p1 * p2).blend(v.mul(p2), v.compare(VectorOperators.GT, 0f));
            case HARD_SIGMOID -> v.mul(p1).add(p2).max(0f).min(1f);
            case HARD_SWISH -> v.mul(v.div(6f).add(0.5f).max(0f).min(1f));
            case THRESHOLDED_RELU -> FloatVector.zero(S).blend(v, v.compare(VectorOperators.GT, p1));
            case CELU -> v.max(0f).add(v.div(p1).lanewise(VectorOperators.EXPM1).mul(p1).min(0f));
            case CLIP -> v.max(p1).min(p2);
            case IDENTITY -> v;
            case SIN -> v.lanewise(VectorOperators.SIN);
            case COS -> v.lanewise(VectorOperators.COS);
            default -> throw new IllegalStateException("unary opcode " + opc);
        };
    }

    private static FloatVector sigmoid(FloatVector v) {
        FloatVector e = v.abs().neg().lanewise(VectorOperators.EXP), d = e.add(1f);
        return e.div(d).blend(FloatVector.broadcast(S, 1f).div(d), v.compare(VectorOperators.GE, 0f));
    }

    private static FloatVector geluTanh(FloatVector v) {
        FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
        return inner.lanewise(VectorOperators.TANH).add(1f).mul(v).mul(0.5f);
    }

    static float apply(int opc, float x, float p1, float p2) {
        return switch (opc) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case RELU -> x > 0 ? x : 0f;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RECIPROCAL -> 1f / x;
            case SIGMOID -> {
                float e = (float) Math.exp(-Math.abs(x));
                yield x >= 0 ? 1f / (1f + e) : e / (1f + e);
            }
            case TANH -> (float) Math.tanh(x);
            case ERF -> Vec.erf(x);
            case GELU -> x * normalCdf(x);
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case SOFTPLUS -> (float) (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
            case SOFTSIGN -> x / (1f + Math.abs(x));
            case LEAKY_RELU -> x >= 0 ? x : p1 * x;
            case ELU -> x >= 0 ? x : (float) (p1 * Math.expm1(x));
            case SELU -> x > 0 ? p2 * x : (float) (p1 * p2 * Math.expm1(x));
            case HARD_SIGMOID -> Math.min(Math.max(p1 * x + p2, 0f), 1f);
            case HARD_SWISH -> x * Math.min(Math.max(x / 6f + 0.5f, 0f), 1f);
            case THRESHOLDED_RELU -> x > p1 ? x : 0f;
            case CELU -> Math.max(0f, x) + Math.min(0f, (float) (p1 * Math.expm1(x / p1)));
            case CLIP -> Math.min(Math.max(x, p1), p2);
            case IDENTITY -> x;
            case SIN -> (float) Math.sin(x);
            case COS -> (float) Math.cos(x);
            default -> throw new IllegalStateException("unary opcode " + opc);
        };
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2, from erfc of |x| / sqrt 2 so that both tails keep their precision. */
    private static FloatVector normalCdf(FloatVector x) {
        FloatVector halfErfc = Vec.erfc(x.abs().mul(INV_SQRT_2)).mul(0.5f);
        return halfErfc.neg().add(1f).blend(halfErfc, x.compare(VectorOperators.LT, 0f));
    }

    private static float normalCdf(float x) {
        float halfErfc = 0.5f * Vec.erfc(Math.abs(x) * INV_SQRT_2);
        return x < 0 ? halfErfc : 1f - halfErfc;
    }

    private static Step clip(EmitContext c) {
        float lo = Float.NEGATIVE_INFINITY, hi = Float.POSITIVE_INFINITY;
        for (int i = 1; i <= 2; i++) {
            if (!c.has(i)) continue;
            Tensor t = c.constant(i);
            if (t == null || t.dtype() != DType.FLOAT32 || t.numel() != 1) return null;
            if (i == 1) lo = t.floats()[0];
            else hi = t.floats()[0];
        }
        return c.arenaIn(0) && c.out(0) != null && c.out(0).inArena() ? unaryStep(c, CLIP, lo, hi) : null;
    }

    /** Dropout that drops nothing (inference, or a constant ratio of 0): a copy, and a mask of ones made once. */
    private static Step dropout(EmitContext c) {
        boolean training = false;
        if (c.has(2)) {
            Tensor t = c.constant(2);
            if (t == null || t.numel() != 1) return null;
            training = t.getBool(0);
        }
        if (training && c.has(1)) {
            Tensor r = c.constant(1);
            if (r == null || r.numel() != 1 || r.getDouble(0) != 0) return null;
        } else if (training) {
            return null;
        }
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        if (c.out(1) != null) {
            if (c.out(1).inArena() || c.out(1).shape == null) return null;
            Tensor mask = c.ownedOutput(1);
            Arrays.fill((byte[]) mask.data(), (byte) 1);
        }
        return LayoutSteps.copy(c);
    }

    /** Cast to float32 from float32 (a copy) or from bool (0 / 1). */
    private static Step cast(EmitContext c) {
        if (c.out(0) == null || !c.out(0).inArena() || c.attrInt("to") != DType.FLOAT32.onnxCode()) return null;
        if (c.arenaIn(0)) return LayoutSteps.copy(c);
        Slot in = c.in(0);
        if (in == null || in.dtype != DType.BOOL || in.numel != c.out(0).numel) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        int box = in.box;
        long out = c.out(0).offset;
        return () -> {
            byte[] b = (byte[]) ((Tensor) boxes[box]).data();
            for (int i = 0; i < b.length; i++) Vec.set(m, out + i, b[i] != 0 ? 1f : 0f);
        };
    }

    // ---- binary with broadcasting

    static Step zipStep(EmitContext c, int opc) {
        if (!c.arenaIn(0) || !c.arenaIn(1) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot a = c.in(0), b = c.in(1), o = c.out(0);
        if (opc == PRELU && !Arrays.equals(o.shape, a.shape)) return null;
        ZipLayout lay = ZipLayout.of(o.shape, a.shape, b.shape);
        if (lay == null) return null;
        return zipStep(c.pool, c.mem, opc, lay, a.offset, b.offset, o.offset);
    }

    static Step zipStep(KernelPool pool, MemorySegment m, int opc, ZipLayout lay, long a, long b, long o) {
        boolean ca = lay.contiguous[0], cb = lay.contiguous[1];
        long n = lay.n, rows = lay.rows;
        int tasks = tasks(pool, rows * n);
        if (rows == 1) {
            if (tasks == 1) return () -> zip(m, opc, a, ca, b, cb, o, n);
            long chunk = chunk(n, tasks);
            KernelPool.Task t = (i, s) -> {
                long from = i * chunk, to = Math.min(n, from + chunk);
                if (from < to) zip(m, opc, ca ? a + from : a, ca, cb ? b + from : b, cb, o + from, to - from);
            };
            return () -> pool.parallelFor(tasks, t);
        }
        int parts = (int) Math.min(tasks, rows);
        KernelPool.Task t = (i, s) -> {
            long r0 = rows * i / parts, r1 = rows * (i + 1) / parts;
            for (long r = r0; r < r1; r++)
                zip(m, opc, a + lay.rowOffset(0, r), ca, b + lay.rowOffset(1, r), cb, o + r * n, n);
        };
        if (parts == 1) return () -> t.run(0, null);
        return () -> pool.parallelFor(parts, t);
    }

    static void zip(MemorySegment m, int opc, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        if (ca && cb) {
            for (; k < bound; k += L) Vec.store(apply(opc, Vec.load(m, a + k), Vec.load(m, b + k)), m, o + k);
            for (; k < n; k++) Vec.set(m, o + k, apply(opc, Vec.get(m, a + k), Vec.get(m, b + k)));
        } else if (ca) {
            float bs = Vec.get(m, b);
            FloatVector bv = FloatVector.broadcast(S, bs);
            for (; k < bound; k += L) Vec.store(apply(opc, Vec.load(m, a + k), bv), m, o + k);
            for (; k < n; k++) Vec.set(m, o + k, apply(opc, Vec.get(m, a + k), bs));
        } else if (cb) {
            float as = Vec.get(m, a);
            FloatVector av = FloatVector.broadcast(S, as);
            for (; k < bound; k += L) Vec.store(apply(opc, av, Vec.load(m, b + k)), m, o + k);
            for (; k < n; k++) Vec.set(m, o + k, apply(opc, as, Vec.get(m, b + k)));
        } else {
            Vec.fill(m, o, n, apply(opc, Vec.get(m, a), Vec.get(m, b)));
        }
    }

    static FloatVector apply(int opc, FloatVector a, FloatVector b) {
        return switch (opc) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case POW -> a.pow(b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
            case PRELU -> a.mul(b).blend(a, a.compare(VectorOperators.GE, 0f));
            default -> throw new IllegalStateException("binary opcode " + opc);
        };
    }

    static float apply(int opc, float a, float b) {
        return switch (opc) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> (float) Math.pow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case PRELU -> a < 0 ? b * a : a;
            default -> throw new IllegalStateException("binary opcode " + opc);
        };
    }

    // ---- comparisons and Where (booleans live in boxes: byte arrays)

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
        long ao = a.offset, bo = b.offset, n = lay.n;
        boolean ca = lay.contiguous[0], cb = lay.contiguous[1];
        return () -> {
            for (long r = 0; r < lay.rows; r++)
                compareRow(m, kind, ao + lay.rowOffset(0, r), ca, bo + lay.rowOffset(1, r), cb, out, (int) (r * n),
                        (int) n);
        };
    }

    /** out[k] = a[k] op b[k] as 0 / 1 bytes over a row; operands that repeat one value have their flag false. */
    private static void compareRow(MemorySegment m, int kind, long pa, boolean ca,
                                   long pb, boolean cb, byte[] out, int base, int n) {
        int k = 0, bound = B == null ? 0 : (int) Vec.bound(n);
        FloatVector as = ca ? null : FloatVector.broadcast(S, Vec.get(m, pa));
        FloatVector bs = cb ? null : FloatVector.broadcast(S, Vec.get(m, pb));
        // One loop per comparison: the operator must be a constant for the JIT to compile it to an instruction.
        switch (kind) {
            case 0 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? Vec.load(m, pa + k) : as, bv = cb ? Vec.load(m, pb + k) : bs;
                    ByteVector.zero(B).blend((byte) 1, av.compare(VectorOperators.GT, bv).cast(B)).intoArray(out, base + k);
                }
            }
            case 1 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? Vec.load(m, pa + k) : as, bv = cb ? Vec.load(m, pb + k) : bs;
                    ByteVector.zero(B).blend((byte) 1, av.compare(VectorOperators.LT, bv).cast(B)).intoArray(out, base + k);
                }
            }
            case 2 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? Vec.load(m, pa + k) : as, bv = cb ? Vec.load(m, pb + k) : bs;
                    ByteVector.zero(B).blend((byte) 1, av.compare(VectorOperators.GE, bv).cast(B)).intoArray(out, base + k);
                }
            }
            case 3 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? Vec.load(m, pa + k) : as, bv = cb ? Vec.load(m, pb + k) : bs;
                    ByteVector.zero(B).blend((byte) 1, av.compare(VectorOperators.LE, bv).cast(B)).intoArray(out, base + k);
                }
            }
            case 4 -> {
                for (; k < bound; k += L) {
                    FloatVector av = ca ? Vec.load(m, pa + k) : as, bv = cb ? Vec.load(m, pb + k) : bs;
                    ByteVector.zero(B).blend((byte) 1, av.compare(VectorOperators.EQ, bv).cast(B)).intoArray(out, base + k);
                }
            }
            default -> throw new IllegalStateException("comparison " + kind);
        }
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
        long xo = x.offset, yo = y.offset, oo = o.offset, n = lay.n;
        boolean cc = lay.contiguous[0], cx = lay.contiguous[1], cy = lay.contiguous[2];
        return () -> {
            byte[] b = (byte[]) ((Tensor) boxes[box]).data();
            for (long r = 0; r < lay.rows; r++)
                selectRow(m, b, (int) lay.rowOffset(0, r), cc, xo + lay.rowOffset(1, r), cx, yo + lay.rowOffset(2, r), cy,
                        oo + r * n, (int) n);
        };
    }

    /** out[k] = cond[k] ? x[k] : y[k] over a row; operands that repeat one value have their flag false. */
    static void selectRow(MemorySegment m, byte[] b, int pc, boolean cc, long px, boolean cx, long py, boolean cy,
                          long po, int n) {
        int k = 0;
        if (cc && B != null) {
            int bound = (int) Vec.bound(n);
            FloatVector xs = cx ? null : FloatVector.broadcast(S, Vec.get(m, px));
            FloatVector ys = cy ? null : FloatVector.broadcast(S, Vec.get(m, py));
            for (; k < bound; k += L) {
                VectorMask<Float> t = ByteVector.fromArray(B, b, pc + k).compare(VectorOperators.NE, 0).cast(S);
                FloatVector xv = cx ? Vec.load(m, px + k) : xs, yv = cy ? Vec.load(m, py + k) : ys;
                Vec.store(yv.blend(xv, t), m, po + k);
            }
        }
        for (; k < n; k++) {
            boolean t = b[cc ? pc + k : pc] != 0;
            Vec.set(m, po + k, t ? Vec.get(m, cx ? px + k : px) : Vec.get(m, cy ? py + k : py));
        }
    }

    // ---- splitting

    static int tasks(KernelPool pool, long elements) {
        if (elements < PARALLEL_MIN || pool.threads() == 1) return 1;
        return (int) Math.min(2L * pool.threads(), elements / (PARALLEL_MIN / 4));
    }

    /** Elements per task, a multiple of the vector length. */
    static long chunk(long n, int tasks) {
        long c = (n + tasks - 1) / tasks;
        return (c + L - 1) / L * L;
    }
}
