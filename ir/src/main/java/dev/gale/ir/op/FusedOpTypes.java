package dev.gale.ir.op;

import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Type inference of the fused ops that the {@code fuse-patterns} pass makes (declared in {@link GaleOps}):
 *
 * <pre>
 * gale::FusedMatMul(A, B[, bias]) {activation, activation_alpha}    = act(A @ B + bias)
 * gale::FusedGemm(A, B[, C]) {Gemm's attributes, activation, ...}  = act(alpha A' B' + beta C)
 * gale::FusedConv(X, W[, B]) {Conv's attributes, activation, ...}  = act(conv(X, W) + B)
 *                           {..., pool = max | average, pool_kernel} = that pooling, windows side by side, of the above
 * gale::Attention(Q, K, V[, mask]) {scale, key_transposed}         = softmax(scale Q K^T + mask, last axis) V
 * </pre>
 *
 * The bias of FusedMatMul broadcasts into the product's shape and never widens it (the pass checks this before it
 * fuses; inference rejects a node that breaks it). Attention takes K as [..., Lk, d], or as K^T [..., d, Lk] when
 * {@code key_transposed} is 1 (the operand MatMul(Q, K^T) reads); its batch dims broadcast like MatMul's, and the
 * additive mask broadcasts into the scores' shape [..., Lq, Lk].
 */
public final class FusedOpTypes {
    /** The activations a fused op may apply to its result; {@code activation_alpha} is leaky_relu's slope. */
    public static final Set<String> ACTIVATIONS = Set.of("none", "relu", "leaky_relu", "tanh", "sigmoid", "gelu",
            "gelu_tanh");

    private FusedOpTypes() {}

    static List<Type> matMul(InferContext c) {
        activation(c);
        long tb = c.attrInt("transB");
        if (tb != 0 && tb != 1) throw c.error("transB must be 0 or 1, got " + tb);
        List<Type> out = tb == 1 ? transposedB(c) : OpTable.lookup("", "MatMul").inference().infer(c);
        if (!c.hasInput(2)) return out;
        return List.of(withBias(c, (Type.TensorType) out.get(0), 2));
    }

    /** A [..., m, k] times B^T for B [n, k]: [..., m, n] (A [k]: [n]). */
    private static List<Type> transposedB(InferContext c) {
        DType t = c.dtype(0);
        if (c.dtype(1) != t) throw c.error("operands have different element types " + t + " and " + c.dtype(1));
        Shape a = c.shape(0), b = c.shape(1);
        if (b != null && b.rank() != 2) throw c.error("with transB = 1, B must be a matrix, got shape " + b);
        if (a != null && a.rank() == 0) throw c.error("A must have rank at least 1");
        if (a == null || b == null) return List.of(Type.unranked(t));
        NnOps.unify(a.dim(a.rank() - 1), b.dim(1), "inner dimensions of " + a + " and transposed " + b + " differ", c);
        List<Dim> out = new ArrayList<>(a.dims().subList(0, a.rank() - 1));
        out.add(b.dim(0));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    static List<Type> gemm(InferContext c) {
        activation(c);
        return OpTable.lookup("", "Gemm").inference().infer(c);
    }

    static List<Type> conv(InferContext c) {
        activation(c);
        List<Type> out = OpTable.lookup("", "Conv").inference().infer(c);
        String pooling = c.attrString("pool");
        if (pooling.equals("none")) return out;
        if (!pooling.equals("max") && !pooling.equals("average"))
            throw c.error("pool must be none, max or average, got '" + pooling + "'");
        if (!c.hasAttr("pool_kernel")) throw c.error("pool " + pooling + " needs pool_kernel = [height, width]");
        long[] pool = c.attrInts("pool_kernel");
        if (pool.length != 2 || pool[0] < 1 || pool[1] < 1)
            throw c.error("pool_kernel must be two window sizes of at least 1 (height, width), got "
                    + java.util.Arrays.toString(pool));
        Type.TensorType y = (Type.TensorType) out.get(0);
        if (y.shape() == null) return out;
        if (y.shape().rank() != 4)
            throw c.error("pool pools a 2-D convolution's [N, M, H, W] result, but the result has shape " + y.shape());
        List<Dim> dims = new ArrayList<>(y.shape().dims());
        for (int a = 0; a < 2; a++) {
            Dim d = dims.get(2 + a);
            if (d.isFixed() && d.sizeOr(0) < pool[a])
                throw c.error("pool_kernel " + java.util.Arrays.toString(pool) + " is larger than the convolution's "
                        + "result " + y.shape());
            dims.set(2 + a, d.isFixed() ? Dim.of(d.sizeOr(0) / pool[a]) : Dim.UNKNOWN);
        }
        return List.of(Type.tensor(y.dtype(), new Shape(dims)));
    }

    static List<Type> attention(InferContext c) {
        DType t = c.dtype(0);
        if (!t.isFloat()) throw c.error("Q must be a floating-point tensor, got " + t);
        for (int i = 1; i < c.numInputs(); i++)
            if (c.hasInput(i) && c.dtype(i) != t)
                throw c.error("input " + i + " has element type " + c.dtype(i) + ", expected Q's " + t);
        long kt = c.attrInt("key_transposed");
        if (kt != 0 && kt != 1) throw c.error("key_transposed must be 0 or 1, got " + kt);
        Shape q = c.shape(0), k = c.shape(1), v = c.shape(2);
        for (int i = 0; i < 3; i++)
            if (c.shape(i) != null && c.shape(i).rank() < 2)
                throw c.error("Q, K and V must have rank at least 2, input " + i + " has shape " + c.shape(i));
        if (q == null || k == null || v == null) return List.of(Type.unranked(t));
        Dim lk = k.dim(k.rank() - (kt == 1 ? 1 : 2)), dk = k.dim(k.rank() - (kt == 1 ? 2 : 1));
        same(q.dim(q.rank() - 1), dk, "Q's last dim " + q + " differs from K's feature dim " + k, c);
        same(v.dim(v.rank() - 2), lk, "V's rows " + v + " differ from K's length " + k, c);
        Shape scoresBatch = Infer.broadcast(batch(q), batch(k), c);
        List<Dim> scores = new ArrayList<>(scoresBatch.dims());
        scores.add(q.dim(q.rank() - 2));
        scores.add(lk);
        if (c.hasInput(3) && c.shape(3) != null) withBias(c, Type.tensor(t, new Shape(scores)), 3);
        List<Dim> out = new ArrayList<>(Infer.broadcast(scoresBatch, batch(v), c).dims());
        out.add(q.dim(q.rank() - 2));
        out.add(v.dim(v.rank() - 1));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static Shape batch(Shape s) { return new Shape(s.dims().subList(0, s.rank() - 2)); }

    private static void same(Dim a, Dim b, String message, InferContext c) {
        if (a.isFixed() && b.isFixed() && !a.equals(b)) throw c.error(message);
    }

    private static void activation(InferContext c) {
        String a = c.attrString("activation");
        if (!ACTIVATIONS.contains(a))
            throw c.error("activation must be one of " + ACTIVATIONS.stream().sorted().toList() + ", got \"" + a
                    + "\"");
    }

    /**
     * {@code out} with input {@code i} broadcast into it: the addend may not widen the shape, and its fixed sizes
     * pin unknown or symbolic dims of {@code out}.
     */
    private static Type.TensorType withBias(InferContext c, Type.TensorType out, int i) {
        if (c.dtype(i) != out.dtype())
            throw c.error("input " + i + " has element type " + c.dtype(i) + ", expected " + out.dtype());
        Shape b = c.shape(i), o = out.shape();
        if (b == null || o == null) return out;
        if (b.rank() > o.rank()) throw c.error("input " + i + " of shape " + b + " would widen the result " + o);
        List<Dim> dims = new ArrayList<>(o.dims());
        for (int k = 1; k <= b.rank(); k++) {
            Dim bd = b.dim(b.rank() - k), od = o.dim(o.rank() - k);
            if (!bd.isFixed() || bd.equals(Dim.of(1))) continue;
            if (od.isFixed() && !bd.equals(od))
                throw c.error("input " + i + " of shape " + b + " does not broadcast into " + o);
            dims.set(o.rank() - k, bd);
        }
        return Type.tensor(out.dtype(), new Shape(dims));
    }
}
