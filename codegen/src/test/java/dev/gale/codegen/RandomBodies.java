package dev.gale.codegen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Random kernel bodies in text IR for the differential tests: chains of elementwise, broadcast, injective and
 * reduction ops over odd sizes, symbolic leading dimensions and inputs that broadcast. The generator tracks shapes
 * itself and declares the output types, so the parser's type inference checks its bookkeeping.
 */
final class RandomBodies {
    private record Val(String name, List<String> dims, String dtype) {
        String type() { return "tensor<[" + String.join(",", dims) + "]," + dtype + ">"; }
    }

    private static final String[] UNARY = {"Relu", "Neg", "Abs", "Exp", "Tanh", "Sigmoid", "Erf", "Gelu", "LeakyRelu",
            "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "Mish", "Sin", "Cos", "Floor",
            "Ceil", "Round", "Reciprocal", "Sqrt", "Log", "Sign", "Identity", "Shrink", "ThresholdedRelu"};
    private static final String[] BINARY = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "PRelu"};
    private static final String[] REDUCE = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2",
            "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp", "ReduceProd", "ReduceLogSum"};
    private static final int[] SIZES = {1, 2, 3, 5, 7, 8, 13, 17, 33};

    private final Random rnd;
    private final List<Val> inputs = new ArrayList<>();
    private final List<Val> values = new ArrayList<>();
    private final StringBuilder nodes = new StringBuilder();
    private int counter;

    private RandomBodies(long seed) { rnd = new Random(seed); }

    /** A random body named {@code name}; symbolic dimensions are called {@code n}. */
    static String generate(long seed, String name) { return new RandomBodies(seed).build(name); }

    private String build(String name) {
        int rank = 1 + rnd.nextInt(4);
        List<String> base = new ArrayList<>();
        long numel = 1;
        for (int k = 0; k < rank; k++) {
            int size = SIZES[rnd.nextInt(SIZES.length)];
            if (numel * size > 4000) size = 1 + rnd.nextInt(3);
            numel *= size;
            base.add(Integer.toString(size));
        }
        if (rnd.nextInt(3) == 0) base.set(0, "n");
        Val x = input(base);
        values.add(x);
        int steps = 2 + rnd.nextInt(6);
        Val last = x;
        for (int s = 0; s < steps; s++) {
            List<Val> f32 = values.stream().filter(v -> v.dtype().equals("f32")).toList();
            last = step(rnd.nextInt(3) == 0 ? f32.get(rnd.nextInt(f32.size())) : last);
        }
        List<Val> outs = new ArrayList<>(List.of(last));
        Val extra = values.get(rnd.nextInt(values.size()));
        if (rnd.nextInt(3) == 0 && !extra.name().equals(last.name()) && !inputs.contains(extra)) outs.add(extra);
        StringBuilder sb = new StringBuilder("graph @" + name + "(");
        for (int i = 0; i < inputs.size(); i++) sb.append(i > 0 ? ", " : "").append('%').append(inputs.get(i).name())
                .append(": ").append(inputs.get(i).type());
        sb.append(") -> (");
        for (int i = 0; i < outs.size(); i++) sb.append(i > 0 ? ", " : "").append('%').append(outs.get(i).name())
                .append(": ").append(outs.get(i).type());
        sb.append(") {\n").append(nodes);
        // The outputs are named values; an output that is a graph input would need an Identity.
        return sb.append("}\n").toString();
    }

    private Val input(List<String> dims) {
        Val v = new Val("p" + inputs.size(), List.copyOf(dims), "f32");
        inputs.add(v);
        return v;
    }

    private Val node(String op, List<String> dims, String dtype, String args, String attrs) {
        Val v = new Val("v" + counter++, List.copyOf(dims), dtype);
        nodes.append("  %").append(v.name()).append(" = ").append(op).append('(').append(args).append(')');
        if (!attrs.isEmpty()) nodes.append(" {").append(attrs).append('}');
        nodes.append('\n');
        values.add(v);
        return v;
    }

    private String constant(String type, String value) {
        String c = "c" + counter++;
        nodes.append("  %").append(c).append(" = Constant() {value = ").append(type).append(' ').append(value).append("}\n");
        return "%" + c;
    }

    private Val step(Val x) {
        int kind = rnd.nextInt(24);
        if (x.dims().isEmpty()) return kind % 2 == 0 ? unary(x) : binary(x); // a scalar: no axes to work on
        if (kind == 23) return pool(x);
        if (kind == 20) return pad(x);
        if (kind == 21) return concat(x);
        if (kind == 22) return sliceGrad(x);
        if (kind < 6) return unary(x);
        if (kind < 11) return binary(x);
        if (kind < 12) return where(x);
        if (kind < 13) return clip(x);
        if (kind < 14) return transpose(x);
        if (kind < 15) return reshape(x);
        if (kind < 16) return slice(x);
        if (kind < 17) return unsqueezeOrExpand(x);
        if (kind < 18) return castRoundTrip(x);
        return reduce(x);
    }

    private Val unary(Val x) {
        String op = UNARY[rnd.nextInt(UNARY.length)];
        String attrs = switch (op) {
            case "Gelu" -> rnd.nextBoolean() ? "approximate = \"tanh\"" : "";
            case "LeakyRelu" -> "alpha = 0.2";
            case "Elu", "Celu" -> "alpha = 0.7";
            case "Shrink" -> "bias = 0.25, lambd = 0.75";
            case "ThresholdedRelu" -> "alpha = 0.5";
            default -> "";
        };
        return node(op, x.dims(), "f32", "%" + x.name(), attrs);
    }

    private Val binary(Val x) {
        String op = BINARY[rnd.nextInt(BINARY.length)];
        Val y = partner(x, op.equals("PRelu"));
        if (op.equals("Pow")) {
            // A base that is often negative with a fractional exponent is mostly NaN; keep it interesting.
            Val a = node("Abs", x.dims(), "f32", "%" + x.name(), "");
            return node("Pow", broadcast(a.dims(), y.dims()), "f32", "%" + a.name() + ", %" + y.name(), "");
        }
        boolean swap = !op.equals("PRelu") && rnd.nextBoolean();
        Val a = swap ? y : x, b = swap ? x : y;
        return node(op, broadcast(a.dims(), b.dims()), "f32", "%" + a.name() + ", %" + b.name(), "");
    }

    /** A second operand for {@code x}: a new input of a shape that broadcasts to x's, or an earlier compatible value. */
    private Val partner(Val x, boolean mustFit) {
        if (!mustFit && rnd.nextBoolean()) {
            List<Val> ok = new ArrayList<>();
            for (Val v : values) if (v.dtype().equals("f32") && broadcast(x.dims(), v.dims()) != null) ok.add(v);
            if (!ok.isEmpty()) return ok.get(rnd.nextInt(ok.size()));
        }
        List<String> d = new ArrayList<>(x.dims().subList(rnd.nextInt(x.dims().size() + 1), x.dims().size()));
        for (int k = 0; k < d.size(); k++) if (rnd.nextInt(3) == 0) d.set(k, "1");
        return input(d);
    }

    private Val where(Val x) {
        Val y = partner(x, false);
        String cmp = new String[] {"Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal"}[rnd.nextInt(5)];
        List<String> d = broadcast(x.dims(), y.dims());
        Val c = node(cmp, d, "bool", "%" + x.name() + ", %" + y.name(), "");
        if (rnd.nextBoolean()) c = node("Not", d, "bool", "%" + c.name(), "");
        return node("Where", d, "f32", "%" + c.name() + ", %" + x.name() + ", %" + y.name(), "");
    }

    private Val clip(Val x) {
        String lo = rnd.nextBoolean() ? constant("tensor<[],f32>", "[-0.5]") : "_";
        String hi = rnd.nextBoolean() ? constant("tensor<[],f32>", "[1.5]") : "_";
        return node("Clip", x.dims(), "f32", "%" + x.name() + ", " + lo + ", " + hi, "");
    }

    private Val transpose(Val x) {
        List<Integer> perm = new ArrayList<>();
        for (int k = 0; k < x.dims().size(); k++) perm.add(k);
        Collections.shuffle(perm, rnd);
        List<String> d = new ArrayList<>();
        for (int p : perm) d.add(x.dims().get(p));
        return node("Transpose", d, "f32", "%" + x.name(), "perm = " + perm);
    }

    /** Merges two neighbouring fixed dimensions or splits one; the symbolic leading one stays (shape value 0). */
    private Val reshape(Val x) {
        List<String> d = new ArrayList<>(x.dims());
        int k = rnd.nextInt(d.size());
        boolean merged = false;
        if (k + 1 < d.size() && fixed(d.get(k)) && fixed(d.get(k + 1)) && rnd.nextBoolean()) {
            d.set(k, Integer.toString(Integer.parseInt(d.get(k)) * Integer.parseInt(d.remove(k + 1))));
            merged = true;
        }
        if (!merged && fixed(d.get(k))) {
            int n = Integer.parseInt(d.get(k));
            int f = n % 2 == 0 ? 2 : n % 3 == 0 ? 3 : 1;
            d.set(k, Integer.toString(n / f));
            d.add(k, Integer.toString(f));
        }
        if (d.equals(x.dims())) d.add(rnd.nextInt(d.size() + 1), "1");
        StringBuilder shape = new StringBuilder("[");
        for (int i = 0; i < d.size(); i++) shape.append(i > 0 ? ", " : "").append(fixed(d.get(i)) ? d.get(i) : "0");
        // Shape value 0 copies the input's dimension at the same position: a symbol must stay where it is.
        for (int i = 0; i < d.size(); i++)
            if (!fixed(d.get(i)) && (i >= x.dims().size() || !d.get(i).equals(x.dims().get(i)))) return unary(x);
        String s = constant("tensor<[" + d.size() + "],i64>", shape + "]");
        return node("Reshape", d, "f32", "%" + x.name() + ", " + s, "");
    }

    private Val slice(Val x) {
        List<Integer> axes = new ArrayList<>();
        for (int k = 0; k < x.dims().size(); k++) if (fixed(x.dims().get(k)) && Integer.parseInt(x.dims().get(k)) > 1) axes.add(k);
        if (axes.isEmpty()) return unary(x);
        int a = axes.get(rnd.nextInt(axes.size()));
        int n = Integer.parseInt(x.dims().get(a));
        int step = new int[] {1, 2, -1}[rnd.nextInt(3)];
        int start, end;
        if (step > 0) {
            start = rnd.nextInt(n);
            end = start + 1 + rnd.nextInt(n - start);
        } else {
            start = n - 1 - rnd.nextInt(n);
            end = -1 - n + rnd.nextInt(start + 1); // negative end counts from the back: -n-1 means "before 0"
        }
        int len = step > 0 ? (end - start + step - 1) / step : (start - (end + n < 0 ? -1 : end + n) + (-step) - 1) / -step;
        if (len <= 0) return unary(x);
        List<String> d = new ArrayList<>(x.dims());
        d.set(a, Integer.toString(len));
        String args = "%" + x.name() + ", " + constant("tensor<[1],i64>", "[" + start + "]") + ", "
                + constant("tensor<[1],i64>", "[" + end + "]") + ", " + constant("tensor<[1],i64>", "[" + a + "]")
                + ", " + constant("tensor<[1],i64>", "[" + step + "]");
        return node("Slice", d, "f32", args, "");
    }

    /** MaxPool, AveragePool or a global pool over the axes after the first two (which must be fixed). */
    private Val pool(Val x) {
        int rank = x.dims().size();
        if (rank < 3 || x.dims().subList(2, rank).stream().anyMatch(d -> !fixed(d) || d.equals("0"))) return unary(x);
        List<String> d = new ArrayList<>(x.dims());
        if (rnd.nextInt(4) == 0) {
            for (int k = 2; k < rank; k++) d.set(k, "1");
            return node(rnd.nextBoolean() ? "GlobalAveragePool" : "GlobalMaxPool", d, "f32", "%" + x.name(), "");
        }
        int r = rank - 2;
        long[] in = new long[r], kernel = new long[r], strides = new long[r], dil = new long[r], pads = new long[2 * r];
        for (int a = 0; a < r; a++) {
            in[a] = Long.parseLong(x.dims().get(a + 2));
            kernel[a] = 1 + rnd.nextInt((int) Math.min(3, in[a]));
            strides[a] = 1 + rnd.nextInt(2);
            dil[a] = 1;
            pads[a] = kernel[a] > 1 ? rnd.nextInt(2) : 0;
            pads[a + r] = kernel[a] > 1 ? rnd.nextInt(2) : 0;
        }
        boolean max = rnd.nextBoolean(), ceil = rnd.nextBoolean();
        var g = dev.gale.ir.op.ConvGeometry.forward(in, kernel, strides, dil, pads,
                dev.gale.ir.op.ConvGeometry.AutoPad.NOTSET, ceil, IllegalStateException::new);
        for (int a = 0; a < r; a++) d.set(a + 2, Long.toString(g.out()[a]));
        String attrs = "kernel_shape = " + java.util.Arrays.toString(kernel) + ", strides = " + java.util.Arrays.toString(strides)
                + ", pads = " + java.util.Arrays.toString(pads) + ", ceil_mode = " + (ceil ? 1 : 0)
                + (max ? "" : ", count_include_pad = " + rnd.nextInt(2));
        return node(max ? "MaxPool" : "AveragePool", d, "f32", "%" + x.name(), attrs);
    }

    private Val pad(Val x) {
        int rank = x.dims().size();
        long[] pads = new long[2 * rank];
        List<String> d = new ArrayList<>(x.dims());
        for (int k = 0; k < rank; k++) {
            if (!fixed(d.get(k))) continue;
            int n = Integer.parseInt(d.get(k));
            pads[k] = rnd.nextInt(3) - (n > 2 ? 1 : 0);
            pads[k + rank] = rnd.nextInt(3) - (n > 3 ? 1 : 0);
            d.set(k, Long.toString(n + pads[k] + pads[k + rank]));
        }
        String mode = rnd.nextBoolean() ? "constant" : "edge";
        if (mode.equals("edge")) // edge mode needs a non-empty axis to repeat and crops nothing
            for (int k = 0; k < rank; k++)
                if (pads[k] < 0 || pads[k + rank] < 0 || d.get(k).equals("0")) return unary(x);
        String value = mode.equals("constant") && rnd.nextBoolean() ? ", " + constant("tensor<[],f32>", "[0.75]") : "";
        StringBuilder p = new StringBuilder("[");
        for (int i = 0; i < pads.length; i++) p.append(i > 0 ? ", " : "").append(pads[i]);
        String padsConst = constant("tensor<[" + pads.length + "],i64>", p + "]");
        return node("Pad", d, "f32", "%" + x.name() + ", " + padsConst + value, "mode = \"" + mode + "\"");
    }

    private Val concat(Val x) {
        int axis = rnd.nextInt(x.dims().size());
        if (!fixed(x.dims().get(axis))) return unary(x);
        List<String> yd = new ArrayList<>(x.dims());
        yd.set(axis, Integer.toString(1 + rnd.nextInt(4)));
        Val y = input(yd);
        List<String> d = new ArrayList<>(x.dims());
        d.set(axis, Integer.toString(Integer.parseInt(x.dims().get(axis)) * 2 + Integer.parseInt(yd.get(axis))));
        return node("Concat", d, "f32", "%" + x.name() + ", %" + y.name() + ", %" + x.name(),
                "axis = " + (rnd.nextBoolean() ? axis : axis - x.dims().size()));
    }

    /** A slice of x, then gale::SliceGrad putting it back into zeros of x's shape. */
    private Val sliceGrad(Val x) {
        if (x.dims().stream().anyMatch(d -> !fixed(d))) return unary(x);
        Val s = slice(x);
        if (!s.name().startsWith("v") || s.dims().equals(x.dims()) && rnd.nextBoolean()) return s;
        String line = nodes.substring(nodes.lastIndexOf("Slice(") + 6, nodes.lastIndexOf(")"));
        String[] args = line.split(", ");
        if (args.length != 5) return s;
        String shape = constant("tensor<[" + x.dims().size() + "],i64>", x.dims().toString());
        return node("gale::SliceGrad", x.dims(), "f32", "%" + s.name() + ", " + shape + ", " + args[1] + ", " + args[2]
                + ", " + args[3] + ", " + args[4], "");
    }

    private Val unsqueezeOrExpand(Val x) {
        if (rnd.nextBoolean()) {
            int a = rnd.nextInt(x.dims().size() + 1);
            List<String> d = new ArrayList<>(x.dims());
            d.add(a, "1");
            return node("Unsqueeze", d, "f32", "%" + x.name() + ", " + constant("tensor<[1],i64>", "[" + a + "]"), "");
        }
        List<String> d = new ArrayList<>(x.dims());
        for (int k = 0; k < d.size(); k++) if (d.get(k).equals("1") && rnd.nextBoolean()) d.set(k, "3");
        if (rnd.nextBoolean()) d.addFirst("2");
        if (d.stream().anyMatch(s -> !fixed(s))) return unary(x);
        return node("Expand", d, "f32", "%" + x.name() + ", " + constant("tensor<[" + d.size() + "],i64>", d.toString()), "");
    }

    private Val castRoundTrip(Val x) {
        Val w = node("Cast", x.dims(), "f64", "%" + x.name(), "to = 11");
        Val u = node(rnd.nextBoolean() ? "Tanh" : "Exp", x.dims(), "f64", "%" + w.name(), "");
        return node("Cast", x.dims(), "f32", "%" + u.name(), "to = 1");
    }

    private Val reduce(Val x) {
        int rank = x.dims().size();
        if (rnd.nextInt(4) == 0) { // the normalizations partitioning leaves as anchors
            int axis = rnd.nextInt(rank) - (rnd.nextBoolean() ? rank : 0);
            if (rnd.nextBoolean())
                return node(rnd.nextBoolean() ? "Softmax" : "LogSoftmax", x.dims(), "f32", "%" + x.name(), "axis = " + axis);
            int from = axis < 0 ? axis + rank : axis;
            Val scale = input(x.dims().subList(from, rank));
            String bias = rnd.nextBoolean() ? ", %" + input(x.dims().subList(rank - 1, rank)).name() : "";
            return node("LayerNormalization", x.dims(), "f32", "%" + x.name() + ", %" + scale.name() + bias,
                    "axis = " + axis + ", epsilon = 0.001");
        }
        String op = REDUCE[rnd.nextInt(REDUCE.length)];
        List<Integer> axes = new ArrayList<>();
        for (int k = 0; k < rank; k++) if (rnd.nextInt(3) == 0) axes.add(k);
        if (axes.isEmpty()) axes.add(rnd.nextInt(rank));
        boolean keep = rnd.nextBoolean();
        List<String> d = new ArrayList<>();
        for (int k = 0; k < rank; k++) {
            if (!axes.contains(k)) d.add(x.dims().get(k));
            else if (keep) d.add("1");
        }
        List<Long> written = new ArrayList<>();
        for (int a : axes) written.add(rnd.nextBoolean() ? a : (long) a - rank);
        String in = "%" + x.name();
        if (op.equals("ReduceLogSum") || op.equals("ReduceProd")) {
            // log of a sum that may be negative is NaN, a product of many elements overflows: keep values near 1.
            Val s = node("Sigmoid", x.dims(), "f32", in, "");
            in = "%" + s.name();
        }
        Val r = node(op, d, "f32", in + ", " + constant("tensor<[" + axes.size() + "],i64>", written.toString()),
                "keepdims = " + (keep ? 1 : 0));
        if (keep && rnd.nextBoolean()) // broadcast the reduction back, as normalizations do
            return node(rnd.nextBoolean() ? "Sub" : "Div", x.dims(), "f32", "%" + x.name() + ", %" + r.name(), "");
        return r;
    }

    private static boolean fixed(String d) { return Character.isDigit(d.charAt(0)); }

    /** Numpy broadcast of two shapes; null when they do not broadcast (or a symbol meets a number other than 1). */
    static List<String> broadcast(List<String> a, List<String> b) {
        int n = Math.max(a.size(), b.size());
        List<String> r = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int i = k - (n - a.size()), j = k - (n - b.size());
            String x = i >= 0 ? a.get(i) : "1", y = j >= 0 ? b.get(j) : "1";
            if (x.equals(y) || y.equals("1")) r.add(x);
            else if (x.equals("1")) r.add(y);
            else return null;
        }
        return r;
    }
}
