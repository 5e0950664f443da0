package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.Gradients.rule;

/**
 * Gradient rules: neural-network layers. Each rule reads as forward / backward. Conventions follow PyTorch: max
 * pooling sends the gradient to the first maximum of a window; BatchNormalization's running statistics, and the
 * Mean/InvStdDev outputs of LayerNormalization, are not differentiated (they are buffers); Dropout scales by its mask.
 * Convolution, pooling and normalization backward passes are the {@code gale} ops of {@link NnGradOps}.
 */
final class NnGradients {
    private NnGradients() {}

    private static final Map<String, Attr> NONE = Map.of();

    private static List<Value> list(Value... v) { return Arrays.asList(v); }

    static void attach() {
        // y = a @ b (numpy matmul, batch dims broadcast)  /  da = sum_to(dy @ b^T, a), db = sum_to(a^T @ dy, b);
        // a 1-D a is a row [1, k] and a 1-D b a column [k, 1], whose inserted axes dy lacks; two vectors: y = a . b;
        // a 2-D operand broadcast over the other's batch dims gets one 2-D product over all rows (see flattenBatch)
        rule("MatMul", NnGradients::matMul);
        // y = alpha a' b' + beta c (a' = a^T if transA, b' likewise)  /  da' = alpha dy b'^T, db' = alpha a'^T dy,
        // dc = sum_to(beta dy, c); each product is one Gemm with the transposes folded into its flags
        rule("Gemm", NnGradients::gemm);
        // y = conv(x, w) + b  /  dx = ConvGradInput(dy, w), dw = ConvGradWeight(dy, x), db = dy summed over N, spatial
        rule("Conv", c -> conv(c, "ConvGradInput", "ConvGradWeight"));
        // y = conv_transpose(x, w) + b  /  dx = ConvTransposeGradInput(dy, w) (a Conv of dy), dw likewise, db as Conv
        rule("ConvTranspose", c -> conv(c, "ConvTransposeGradInput", "ConvTransposeGradWeight"));
        // y = max over each window  /  dx = dy at the window's first maximum (MaxPoolGrad); Indices carry none
        rule("MaxPool", c -> list(c.dOut(0) == null ? null
                : c.gale("MaxPoolGrad", c.node().attrs(), c.dOut(0), c.in(0))));
        // y = window sum / divisor  /  dx = each window's dy / divisor spread over its elements (AveragePoolGrad)
        rule("AveragePool", c -> list(c.gale("AveragePoolGrad", c.node().attrs(), c.dOut(0), c.shapeOf(c.in(0)))));
        // y = mean over the spatial axes  /  dx = dy / n broadcast over them
        rule("GlobalAveragePool", NnGradients::globalAveragePool);
        // y = max over the spatial axes  /  dx = dy at each plane's first maximum
        rule("GlobalMaxPool", c -> list(c.gale("GlobalMaxPoolGrad", NONE, c.dOut(0), c.in(0))));
        // y = (x - mean) / sqrt(var + eps) scale + b  /  BatchNormGrad: through the batch statistics when
        // training_mode=1, with mean and var constant otherwise; running statistics get no gradient
        rule("BatchNormalization", c -> {
            if (c.dOut(0) == null) return list();
            List<Value> g = c.ops(GaleOps.DOMAIN, "BatchNormGrad", Map.of("epsilon", Attr.of(c.attrFloat("epsilon")),
                            "training_mode", Attr.of(c.attrInt("training_mode"))), 3,
                    c.dOut(0), c.in(0), c.in(1), c.in(3), c.in(4));
            return list(c.needs(0) ? g.get(0) : null, c.needs(1) ? g.get(1) : null, c.needs(2) ? g.get(2) : null);
        });
        // y = per-(n, c) normalization scale + b  /  InstanceNormGrad through each plane's statistics
        rule("InstanceNormalization", c -> norm(c, "InstanceNormGrad",
                Map.of("epsilon", Attr.of(c.attrFloat("epsilon")))));
        // y = per-(n, group) normalization scale + b  /  GroupNormGrad through each group's statistics
        rule("GroupNormalization", c -> norm(c, "GroupNormGrad", Map.of("epsilon", Attr.of(c.attrFloat("epsilon")),
                "num_groups", Attr.of(c.attrInt("num_groups")))));
        // y = normalization over the axes from `axis` scale + b  /  LayerNormGrad gives dx and dscale,
        // db = sum_to(dy, b); Mean and InvStdDev carry no gradient
        rule("LayerNormalization", NnGradients::layerNorm);
        // y = x mask / (1 - ratio) in training, x otherwise  /  dx = dy mask / (1 - ratio) in training, dy otherwise
        rule("Dropout", NnGradients::dropout);
        // y = einsum(eq, x_1..x_n)  /  dx_i = einsum(dy and the other operands -> x_i's labels); labels only x_i has
        // are broadcast back (Expand), axes x_i broadcast from size 1 are summed
        rule("Einsum", NnGradients::einsum);
    }

    // ---- MatMul / Gemm

    private static List<Value> matMul(GradContext c) {
        Value a = c.in(0), b = c.in(1), dy = c.dOut(0);
        int ra = rank(c, a), rb = rank(c, b);
        if (ra == 1 && rb == 1)
            return list(c.needs(0) ? c.op("Mul", NONE, dy, b) : null, c.needs(1) ? c.op("Mul", NONE, dy, a) : null);
        Value a2 = ra == 1 ? unsqueeze(c, a, 0) : a, b2 = rb == 1 ? unsqueeze(c, b, 1) : b, dy2 = dy;
        if (ra == 1) dy2 = unsqueeze(c, dy2, rank(c, dy2) - 1);
        if (rb == 1) dy2 = unsqueeze(c, dy2, rank(c, dy2));
        int r2a = rank(c, a2), r2b = rank(c, b2);
        Value da = null, db = null;
        if (c.needs(0)) {
            da = r2a == 2 && r2b >= 3 && flatLeftPays(c, b2)
                    ? gemm(c, batchToColumns(c, dy2), batchToColumns(c, b2), 1, false, true)
                    : c.sumToShapeOf(c.op("MatMul", NONE, dy2, transposeLast(c, b2)), a2);
            if (ra == 1) da = squeeze(c, da, 0);
        }
        if (c.needs(1)) {
            db = r2b == 2 && r2a >= 3
                    ? gemm(c, flattenBatch(c, a2), flattenBatch(c, dy2), 1, true, false)
                    : c.sumToShapeOf(c.op("MatMul", NONE, transposeLast(c, a2), dy2), b2);
            if (rb == 1) db = squeeze(c, db, 1);
        }
        return list(da, db);
    }

    // A 2-D operand broadcast over the other's batch dims (a linear layer's weight W [k, n] applied to x [b, s, k])
    // gets its gradient as one 2-D product over all rows instead of a batched product [b, k, n] summed over b:
    // dW = x_rows^T dy_rows with x_rows = x as [b s, k] and dy_rows = dy as [b s, n] (Flatten, one Gemm with
    // transA). No [b, k, n] intermediate, which at large batch outweighs the activations. On the left, a [m, k] @
    // b [B, k, n]: da = sum_B dy_B b_B^T = dy_cols b_cols^T, where dy_cols = dy as [m, B n] and b_cols = b as
    // [k, B n] (the row axis moved first, then flattened). That needs a transposed copy of dy [B, m, n] where the
    // batched product needs [B, m, k] (both need a transposed b), so it is taken when n <= k is known.

    /** {@code v} [..., k] as rows [prod(...), k]. */
    private static Value flattenBatch(GradContext c, Value v) {
        return c.op("Flatten", Map.of("axis", Attr.of((long) rank(c, v) - 1)), v);
    }

    /** {@code v} [B..., r, n] as columns [r, prod(B...) n]: axis r moved first, then flattened. */
    private static Value batchToColumns(GradContext c, Value v) {
        int r = rank(c, v);
        long[] perm = new long[r];
        perm[0] = r - 2;
        for (int k = 0; k < r - 2; k++) perm[k + 1] = k;
        perm[r - 1] = r - 1;
        return c.op("Flatten", Map.of("axis", Attr.of(1L)), c.op("Transpose", Map.of("perm", Attr.of(perm)), v));
    }

    /** Whether b's last dim n is known to be at most its row dim k (the 2-D form's copy of dy is then no larger). */
    private static boolean flatLeftPays(GradContext c, Value b) {
        Shape s = c.typeOf(b).shape();
        Dim k = s.dim(s.rank() - 2), n = s.dim(s.rank() - 1);
        return n instanceof Dim.Sym && n.equals(k) || n.isFixed() && k.isFixed() && n.sizeOr(0) <= k.sizeOr(0);
    }

    private static List<Value> gemm(GradContext c) {
        Value a = c.in(0), b = c.in(1), dy = c.dOut(0);
        boolean ta = c.attrInt("transA") != 0, tb = c.attrInt("transB") != 0;
        float alpha = c.attrFloat("alpha"), beta = c.attrFloat("beta");
        Value da = null, db = null, dc = null;
        if (c.needs(0)) {
            // transA=0: da = alpha dy b'^T; transA=1: da = (alpha dy b'^T)^T = alpha b' dy^T
            da = ta ? gemm(c, b, dy, alpha, tb, true) : gemm(c, dy, b, alpha, false, !tb);
        }
        if (c.needs(1)) {
            // transB=0: db = alpha a'^T dy; transB=1: db = (alpha a'^T dy)^T = alpha dy^T a'
            db = tb ? gemm(c, dy, a, alpha, true, ta) : gemm(c, a, dy, alpha, !ta, false);
        }
        if (c.needs(2)) {
            Value scaled = beta == 1 ? dy : c.op("Mul", NONE, dy, c.scalar(beta, dy));
            dc = c.sumToShapeOf(scaled, c.in(2));
        }
        return list(da, db, dc);
    }

    private static Value gemm(GradContext c, Value x, Value y, float alpha, boolean tx, boolean ty) {
        Map<String, Attr> attrs = new java.util.LinkedHashMap<>();
        if (alpha != 1) attrs.put("alpha", Attr.of(alpha));
        if (tx) attrs.put("transA", Attr.of(1L));
        if (ty) attrs.put("transB", Attr.of(1L));
        return c.op("Gemm", attrs, x, y);
    }

    // ---- convolution and pooling

    private static List<Value> conv(GradContext c, String gradInput, String gradWeight) {
        Value x = c.in(0), w = c.in(1), dy = c.dOut(0);
        Map<String, Attr> attrs = c.node().attrs();
        Value dx = c.needs(0) ? c.gale(gradInput, attrs, dy, w, c.shapeOf(x)) : null;
        Value dw = c.needs(1) ? c.gale(gradWeight, attrs, dy, x, c.shapeOf(w)) : null;
        Value db = null;
        if (c.needs(2)) {
            int r = rank(c, dy);
            long[] axes = new long[r - 1];
            axes[0] = 0;
            for (int k = 2; k < r; k++) axes[k - 1] = k;
            db = reduceSum(c, dy, axes);
        }
        return list(dx, dw, db);
    }

    private static List<Value> globalAveragePool(GradContext c) {
        Value x = c.in(0), dy = c.dOut(0);
        Shape s = c.typeOf(x).shape();
        Value n;
        if (s != null && s.isStatic()) {
            long count = 1;
            for (int k = 2; k < s.rank(); k++) count *= s.sizes()[k];
            n = c.scalar(count, dy);
        } else {
            Value spatial = c.op("Shape", Map.of("start", Attr.of(2L)), x);
            Value count = c.op("ReduceProd", Map.of("keepdims", Attr.of(0L)), spatial);
            n = c.op("Cast", Map.of("to", Attr.of((long) c.dtypeOf(dy).onnxCode())), count);
        }
        return list(c.op("Expand", NONE, c.op("Div", NONE, dy, n), c.shapeOf(x)));
    }

    // ---- normalization

    private static List<Value> norm(GradContext c, String op, Map<String, Attr> attrs) {
        List<Value> g = c.ops(GaleOps.DOMAIN, op, attrs, 3, c.dOut(0), c.in(0), c.in(1));
        return list(c.needs(0) ? g.get(0) : null, c.needs(1) ? g.get(1) : null, c.needs(2) ? g.get(2) : null);
    }

    private static List<Value> layerNorm(GradContext c) {
        Value dy = c.dOut(0);
        if (dy == null) return list();
        Value dx = null, ds = null;
        if (c.needs(0) || c.needs(1)) {
            List<Value> g = c.ops(GaleOps.DOMAIN, "LayerNormGrad", Map.of("axis", Attr.of(c.attrInt("axis")),
                    "epsilon", Attr.of(c.attrFloat("epsilon"))), 2, dy, c.in(0), c.in(1));
            dx = c.needs(0) ? g.get(0) : null;
            ds = c.needs(1) ? g.get(1) : null;
        }
        return list(dx, ds, c.needs(2) ? c.sumToShapeOf(dy, c.in(2)) : null);
    }

    // ---- Dropout

    private static List<Value> dropout(GradContext c) {
        Value dy = c.dOut(0);
        if (dy == null) return list();
        boolean trainingInput = c.node().hasInput(2);
        if (!trainingInput) return list(dy); // inference: identity
        // A known ratio of 0 or training_mode false: the mask is all ones and the scale 1, so dx = dy, and the
        // forward Dropout (its mask now unread) simplifies away. PyTorch exports dropout=0.0 layers this way.
        if (Dropouts.isIdentity(c.node().hasInput(1) ? c.constantValue(c.in(1)) : null, c.constantValue(c.in(2))))
            return list(dy);
        boolean hasMask = c.node().outputs().size() > 1 && !c.out(1).isNone();
        if (!hasMask) return list(c.gale("DropoutGrad", NONE, dy, c.in(1), c.in(2)));
        // scale = 1 / (1 - ratio) when training_mode holds, else 1 (the mask is then all ones)
        DType t = c.dtypeOf(dy);
        Value ratio = c.node().hasInput(1) ? c.in(1) : c.scalar(0.5, dy);
        if (c.dtypeOf(ratio) != t) ratio = c.op("Cast", Map.of("to", Attr.of((long) t.onnxCode())), ratio);
        Value one = c.scalar(1, dy);
        Value scale = c.op("Where", NONE, c.in(2), c.op("Div", NONE, one, c.op("Sub", NONE, one, ratio)), one);
        Value mask = c.op("Cast", Map.of("to", Attr.of((long) t.onnxCode())), c.out(1));
        return list(c.op("Mul", NONE, dy, c.op("Mul", NONE, mask, scale)));
    }

    // ---- Einsum

    private static List<Value> einsum(GradContext c) {
        int n = c.node().inputs().size();
        int[] ranks = new int[n];
        for (int i = 0; i < n; i++) ranks[i] = rank(c, c.in(i));
        EinsumEquation eq = EinsumEquation.parse(c.attrString("equation"), ranks, c::error);
        // Every label gets a letter of its own (ellipsis axes included), so the backward equations are explicit.
        char[] letter = new char[eq.numLabels()];
        int next = 0;
        for (int[] labels : eq.inputs()) {
            for (int l : labels) {
                if (letter[l] != 0) continue;
                if (next == 52) throw c.error("the equation uses more than 52 labels");
                letter[l] = (char) (next < 26 ? 'a' + next : 'A' + next - 26);
                next++;
            }
        }
        Value[] grads = new Value[n];
        for (int i = 0; i < n; i++) {
            if (!c.needs(i)) continue;
            int[] mine = eq.inputs()[i];
            StringBuilder kept = new StringBuilder();
            List<Long> missing = new ArrayList<>();
            for (int k = 0; k < mine.length; k++) {
                for (int j = 0; j < k; j++)
                    if (mine[j] == mine[k])
                        throw c.error("gradients of operand " + i + ", which repeats label '" + letter[mine[k]]
                                + "' (a diagonal), are not supported");
                if (occursElsewhere(eq, i, mine[k])) kept.append(letter[mine[k]]);
                else missing.add((long) k);
            }
            List<String> terms = new ArrayList<>(List.of(term(eq.output(), letter)));
            List<Value> operands = new ArrayList<>(List.of(c.dOut(0)));
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                terms.add(term(eq.inputs()[j], letter));
                operands.add(c.in(j));
            }
            Value g = c.op("Einsum", Map.of("equation", Attr.of(String.join(",", terms) + "->" + kept)),
                    operands.toArray(Value[]::new));
            if (!missing.isEmpty()) {
                long[] axes = missing.stream().mapToLong(Long::longValue).toArray();
                g = c.op("Expand", NONE, c.op("Unsqueeze", NONE, g, c.constant(Tensor.vector(axes))), c.shapeOf(c.in(i)));
            }
            grads[i] = c.sumToShapeOf(g, c.in(i));
        }
        return list(grads);
    }

    private static boolean occursElsewhere(EinsumEquation eq, int operand, int label) {
        for (int l : eq.output()) if (l == label) return true;
        for (int j = 0; j < eq.inputs().length; j++) {
            if (j == operand) continue;
            for (int l : eq.inputs()[j]) if (l == label) return true;
        }
        return false;
    }

    private static String term(int[] labels, char[] letter) {
        StringBuilder b = new StringBuilder();
        for (int l : labels) b.append(letter[l]);
        return b.toString();
    }

    // ---- helpers

    private static int rank(GradContext c, Value v) {
        Shape s = c.typeOf(v).shape();
        if (s == null) throw c.error("the rank of '" + v.name() + "' is unknown");
        return s.rank();
    }

    /** Swaps the last two axes. */
    private static Value transposeLast(GradContext c, Value v) {
        int r = rank(c, v);
        long[] perm = new long[r];
        for (int k = 0; k < r; k++) perm[k] = k;
        perm[r - 2] = r - 1;
        perm[r - 1] = r - 2;
        return c.op("Transpose", Map.of("perm", Attr.of(perm)), v);
    }

    private static Value unsqueeze(GradContext c, Value v, long axis) {
        return c.op("Unsqueeze", NONE, v, c.constant(Tensor.vector(axis)));
    }

    private static Value squeeze(GradContext c, Value v, long axis) {
        return c.op("Squeeze", NONE, v, c.constant(Tensor.vector(axis)));
    }

    private static Value reduceSum(GradContext c, Value v, long[] axes) {
        return c.op("ReduceSum", Map.of("keepdims", Attr.of(0L)), v, c.constant(Tensor.vector(axes)));
    }
}
