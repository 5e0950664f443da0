package dev.gale.onnx;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.UnsupportedException;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rules of {@link OpsetUpgrader} for ops whose meaning changed between opsets, each written as the pattern it
 * matches and the nodes that replace it. A rule receives the node after its attributes have been fixed and moved to
 * inputs, and adds the node(s) that replace it to the emitter; ops without a rule pass through.
 */
final class LegacyRewrites {
    private LegacyRewrites() {}

    private static final List<String> LEGACY_BROADCAST = List.of("Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor",
            "Equal", "Greater", "Less");

    static void apply(Node n, int v, OpsetUpgrader.Emitter e) {
        switch (n.op()) {
            case "Softmax", "LogSoftmax", "Hardmax" -> {
                if (v < 13) coerceTo2d(n, e);
                else e.add(n);
            }
            case "PRelu" -> {
                if (v < 7) perChannelSlope(n, e);
                else e.add(n);
            }
            case "BatchNormalization" -> {
                if (v < 14) batchNorm(n, v, e);
                else e.add(n);
            }
            case "Dropout" -> dropout(n, v, e);
            case "Constant" -> {
                // Gale holds sparse constants densely; ONNX's sparse_value would need a sparse tensor on export.
                if (n.attr("sparse_value") != null)
                    e.add(n.withAttrs(Map.of("value", n.attr("sparse_value"))));
                else e.add(n);
            }
            case "Upsample" -> resizeAsymmetric(n, e);
            case "Resize" -> {
                if (v < 11) resizeAsymmetric(n, e);
                else if (v < 13 && n.attr("coordinate_transformation_mode") instanceof Attr.StringAttr s
                        && s.value().equals("tf_half_pixel_for_nn")) e.add(tfHalfPixelForNearest(n));
                else e.add(n);
            }
            case "Split" -> {
                // Opset 18 asks for num_outputs when no split sizes are given.
                if (v < 18 && !n.hasInput(1) && n.attr("num_outputs") == null)
                    e.add(with(n, "num_outputs", Attr.of((long) n.outputs().size())));
                else e.add(n);
            }
            case "Scatter" -> e.add(new Node(n.name(), "", "ScatterElements", n.inputs(), n.outputs(), n.attrs()));
            case "Scan" -> {
                if (v < 9) scanWithBatchAxis(n, e);
                else e.add(n);
            }
            case "RoiAlign" -> {
                // RoiAlign-10 mapped output pixels without the half-pixel offset on the input side.
                if (v < 16 && n.attr("coordinate_transformation_mode") == null)
                    e.add(with(n, "coordinate_transformation_mode", Attr.of("output_half_pixel")));
                else e.add(n);
            }
            case "Tile" -> {
                if (v < 6) tileAlongAxis(n, e);
                else e.add(n);
            }
            case "ImageScaler", "Scale", "Affine", "ScaledTanh", "ParametricSoftplus", "Crop", "DynamicSlice" -> {
                if (v < 10) experimental(n, e);
                else e.add(n);
            }
            default -> {
                if (v < 7 && LEGACY_BROADCAST.contains(n.op())) legacyBroadcast(n, e);
                else e.add(n);
            }
        }
    }

    /**
     * Before opset 13, Softmax, LogSoftmax and Hardmax viewed the input as 2-D, {@code [d0*..*d(axis-1),
     * d(axis)*..*d(n-1)]}, and normalized each row; opset 13 normalizes along one axis.
     * <pre>
     * Softmax{axis=a}(x)  ->  Reshape(Softmax{axis=1}(Flatten{axis=a}(x)), shape(x))
     * </pre>
     * When {@code a} is the last axis both meanings agree and the node only gets an explicit axis.
     */
    private static void coerceTo2d(Node n, OpsetUpgrader.Emitter e) {
        Value x = n.input(0);
        long axis = n.attr("axis") instanceof Attr.IntAttr a ? a.value() : 1;
        int rank = e.rankOf(x);
        if (rank >= 0) {
            if (rank == 0 || axis < -rank || axis >= rank)
                throw new GaleException(n.describe() + ": axis " + axis + " is out of range for an input of rank "
                        + rank);
            long a = axis < 0 ? axis + rank : axis;
            if (a == rank - 1) {
                e.add(with(n, "axis", Attr.of(a)));
                return;
            }
        }
        Value flat = e.op("Flatten", List.of(x), Map.of("axis", Attr.of(axis)), "flat2d");
        Value y2 = new Value(e.fresh("2d"), null);
        e.add(new Node(n.name(), "", n.op(), List.of(flat), List.of(y2), Map.of("axis", Attr.of(1L))));
        reshapeLike(y2, x, n.output(0), e);
    }

    /** {@code out = Reshape(y, shape(like))}, with a constant shape when {@code like}'s shape is static. */
    private static void reshapeLike(Value y, Value like, Value out, OpsetUpgrader.Emitter e) {
        Type t = e.typeOf(like);
        Value shape;
        Map<String, Attr> attrs = Map.of();
        if (t instanceof Type.TensorType tt && tt.shape() != null && tt.shape().isStatic()) {
            long[] sizes = tt.shape().sizes();
            shape = e.constant(Tensor.vector(sizes), "shape");
            for (long s : sizes) if (s == 0) attrs = Map.of("allowzero", Attr.of(1L));
        } else {
            shape = e.op("Shape", List.of(like), Map.of(), "shape");
            attrs = Map.of("allowzero", Attr.of(1L));
        }
        e.add(new Node(e.fresh("reshape"), "", "Reshape", List.of(y, shape), List.of(out), attrs));
    }

    /**
     * Before opset 7, arithmetic and comparison ops broadcast only with {@code broadcast=1}, aligning B to A's
     * dimensions starting at {@code axis} (default: the trailing dimensions, as numpy does). Numpy broadcasting
     * gives the same result once B gets trailing 1-dimensions:
     * <pre>
     * Add{broadcast=1, axis=k}(A[rank ra], B[rank rb])  ->  Add(A, Unsqueeze(B, [rb, .., ra-k-1]))
     * </pre>
     */
    private static void legacyBroadcast(Node n, OpsetUpgrader.Emitter e) {
        Map<String, Attr> attrs = new LinkedHashMap<>(n.attrs());
        boolean broadcast = attrs.remove("broadcast") instanceof Attr.IntAttr b && b.value() != 0;
        Attr axisAttr = attrs.remove("axis");
        List<Value> in = new ArrayList<>(n.inputs());
        if (broadcast && axisAttr instanceof Attr.IntAttr ax && in.size() == 2) {
            int ra = e.rankOf(in.get(0)), rb = e.rankOf(in.get(1));
            if (ra < 0 || rb < 0)
                throw new GaleException(n.describe() + ": broadcast with axis=" + ax.value() + " (opset < 7) needs the "
                        + "ranks of both inputs, which are unknown; declare their shapes in value_info");
            long axis = ax.value() < 0 ? ax.value() + ra : ax.value();
            long extra = ra - axis - rb;
            if (axis < 0 || extra < 0)
                throw new GaleException(n.describe() + ": broadcast axis " + ax.value() + " does not fit an input of rank "
                        + rb + " against rank " + ra);
            if (extra > 0) {
                long[] axes = new long[(int) extra];
                for (int i = 0; i < axes.length; i++) axes[i] = rb + i;
                in.set(1, e.op("Unsqueeze", List.of(in.get(1), e.constant(Tensor.vector(axes), "bcast_axes")),
                        Map.of(), "bcast"));
            }
        }
        e.add(new Node(n.name(), "", n.op(), in, n.outputs(), attrs));
    }

    /**
     * PRelu before opset 7 applied a slope of shape {@code [C]} per channel (axis 1); opset 7 broadcasts it from the
     * trailing axis, so the slope gets trailing 1-dimensions: {@code PRelu(x[N,C,H,W], s[C]) -> PRelu(x,
     * Unsqueeze(s, [1, 2]))}.
     */
    private static void perChannelSlope(Node n, OpsetUpgrader.Emitter e) {
        Value x = n.input(0), slope = n.input(1);
        int rx = e.rankOf(x), rs = e.rankOf(slope);
        Tensor constSlope = e.constantOf(slope);
        Type st = e.typeOf(slope);
        long size = st instanceof Type.TensorType tt && tt.shape() != null && tt.shape().rank() == 1
                ? tt.shape().dim(0).sizeOr(-1) : constSlope != null ? constSlope.numel() : -1;
        if (rx > 2 && rs == 1 && size != 1) {
            long[] axes = new long[rx - 2];
            for (int i = 0; i < axes.length; i++) axes[i] = i + 1;
            Value s = e.op("Unsqueeze", List.of(slope, e.constant(Tensor.vector(axes), "slope_axes")), Map.of(),
                    "slope");
            e.add(n.withInputs(List.of(x, s)));
        } else {
            e.add(n);
        }
    }

    /**
     * BatchNormalization before opset 14: {@code is_test} (before 7) and {@code spatial} (before 9) go away; a node
     * that asks for the running statistics is in training mode ({@code training_mode=1}, opset 14); the saved
     * mean and inverse deviation outputs (4 and 5) no longer exist. {@code spatial=0} (statistics per element, not
     * per channel) in inference becomes plain arithmetic: {@code (x - mean) / sqrt(var + eps) * scale + B}.
     */
    private static void batchNorm(Node n, int v, OpsetUpgrader.Emitter e) {
        Map<String, Attr> attrs = new LinkedHashMap<>(n.attrs());
        boolean isTest = attrs.remove("is_test") instanceof Attr.IntAttr t && t.value() != 0;
        boolean spatial = !(attrs.remove("spatial") instanceof Attr.IntAttr s && s.value() == 0);
        List<Value> outs = new ArrayList<>(n.outputs());
        boolean statsWanted = false;
        for (int i = 1; i < Math.min(3, outs.size()); i++) statsWanted |= !outs.get(i).isNone();
        boolean training = statsWanted && !(v < 7 && isTest);
        for (int i = 1; i < outs.size(); i++) {
            if (outs.get(i).isNone() || (i < 3 && training)) continue;
            e.scope.dropped(outs.get(i).name(), n.describe() + ": output " + i + " ('" + outs.get(i).name()
                    + "') of BatchNormalization-" + v + " has no equivalent in opset 14 and later"
                    + (i >= 3 ? " (saved mean and inverse deviation are internal to training)" : " in inference"));
        }
        outs = new ArrayList<>(outs.subList(0, Math.min(outs.size(), training ? 3 : 1)));
        if (!spatial && e.rankOf(n.input(1)) > 1) {
            if (training)
                throw new UnsupportedException(n.describe() + ": BatchNormalization with spatial=0 in training mode is "
                        + "not supported");
            perElementNorm(n, attrs, e);
            return;
        }
        if (training) attrs.put("training_mode", Attr.of(1L));
        e.add(new Node(n.name(), "", n.op(), n.inputs(), outs, attrs));
    }

    private static void perElementNorm(Node n, Map<String, Attr> attrs, OpsetUpgrader.Emitter e) {
        Value x = n.input(0), scale = n.input(1), bias = n.input(2), mean = n.input(3), var = n.input(4);
        float eps = attrs.get("epsilon") instanceof Attr.FloatAttr f ? f.value() : 1e-5f;
        DType t = e.dtypeOf(x);
        Tensor epsT = Tensor.zeros(t == null ? DType.FLOAT32 : t);
        epsT.setDouble(0, eps);
        Value sd = e.op("Sqrt", List.of(e.op("Add", List.of(var, e.constant(epsT, "eps")), Map.of(), "var_eps")),
                Map.of(), "std");
        Value norm = e.op("Div", List.of(e.op("Sub", List.of(x, mean), Map.of(), "centered"), sd), Map.of(), "norm");
        Value scaled = e.op("Mul", List.of(norm, scale), Map.of(), "scaled");
        e.add(new Node(n.name(), "", "Add", List.of(scaled, bias), List.of(n.output(0)), Map.of()));
    }

    /**
     * Dropout before opset 7 had {@code is_test}, which inference ignores; before opset 10 its mask had the data's
     * element type, since then bool: {@code mask = Cast{to=T}(mask_bool)}.
     */
    private static void dropout(Node n, int v, OpsetUpgrader.Emitter e) {
        Node d = v < 7 ? without(n, "is_test") : n;
        if (v >= 10 || d.outputs().size() < 2 || d.output(1).isNone()) {
            e.add(d);
            return;
        }
        DType t = e.dtypeOf(d.input(0));
        Value mask = d.output(1), boolMask = new Value(e.fresh("bool_mask"), null);
        e.add(d.withOutputs(List.of(d.output(0), boolMask)));
        e.add(new Node(e.fresh("mask_cast"), "", "Cast", List.of(boolMask), List.of(mask),
                Map.of("to", Attr.of((long) (t == null ? DType.FLOAT32 : t).onnxCode()))));
    }

    /**
     * Upsample (all versions) and Resize-10 map output pixel {@code i} to input coordinate {@code i / scale}
     * (Resize's "asymmetric" transform) and, for nearest, take the floor when upsampling and the ceiling when
     * downsampling (what ONNX Runtime does). Opset 13's Resize says the same with attributes:
     * <pre>
     * Upsample{mode}(x, scales)  ->  Resize{mode, coordinate_transformation_mode=asymmetric, nearest_mode}(x, _, scales)
     * </pre>
     * A nearest resize that enlarges some axes and shrinks others is split into two Resizes (nearest is separable).
     */
    private static void resizeAsymmetric(Node n, OpsetUpgrader.Emitter e) {
        Value x = n.input(0), scales = n.input(1);
        if (scales.isNone())
            throw new GaleException(n.describe() + ": has no scales input");
        String mode = n.attr("mode") instanceof Attr.StringAttr s ? s.value() : "nearest";
        if (mode.equals("bilinear")) mode = "linear";
        if (!mode.equals("nearest") && !mode.equals("linear"))
            throw new GaleException(n.describe() + ": unknown mode '" + mode + "' (expected nearest or linear)");
        Map<String, Attr> attrs = new LinkedHashMap<>();
        attrs.put("mode", Attr.of(mode));
        attrs.put("coordinate_transformation_mode", Attr.of("asymmetric"));
        Tensor s = e.constantOf(scales);
        if (mode.equals("nearest") && s != null) {
            boolean up = false, down = false;
            for (int i = 0; i < s.numel(); i++) {
                up |= s.getDouble(i) > 1;
                down |= s.getDouble(i) < 1;
            }
            if (up && down) {
                Tensor upScales = Tensor.zeros(DType.FLOAT32, s.numel()), downScales = Tensor.zeros(DType.FLOAT32, s.numel());
                for (int i = 0; i < s.numel(); i++) {
                    upScales.setDouble(i, Math.max(1, s.getDouble(i)));
                    downScales.setDouble(i, Math.min(1, s.getDouble(i)));
                }
                Value mid = e.op("Resize", List.of(x, Value.NONE, e.constant(upScales, "up_scales")),
                        with(attrs, "nearest_mode", Attr.of("floor")), "up");
                e.add(new Node(n.name(), "", "Resize", List.of(mid, Value.NONE, e.constant(downScales, "down_scales")),
                        n.outputs(), with(attrs, "nearest_mode", Attr.of("ceil"))));
                return;
            }
            attrs.put("nearest_mode", Attr.of(down ? "ceil" : "floor"));
        } else if (mode.equals("nearest")) {
            attrs.put("nearest_mode", Attr.of("floor"));
        }
        e.add(new Node(n.name(), "", "Resize", List.of(x, Value.NONE, scales), n.outputs(), attrs));
    }

    /**
     * Resize-11's "tf_half_pixel_for_nn" maps output pixel {@code x} to {@code h + 0.5}, where {@code h = (x + 0.5) /
     * scale - 0.5} is the "half_pixel" coordinate. Rounding {@code h + 0.5} is rounding {@code h} another way:
     * round_prefer_floor(h + 0.5) = ceil(h), and floor(h + 0.5) = round_prefer_ceil(h); both clamp the same.
     */
    private static Node tfHalfPixelForNearest(Node n) {
        String mode = n.attr("mode") instanceof Attr.StringAttr m ? m.value() : "nearest";
        String nearest = n.attr("nearest_mode") instanceof Attr.StringAttr m ? m.value() : "round_prefer_floor";
        String equivalent = switch (nearest) {
            case "round_prefer_floor" -> "ceil";
            case "floor" -> "round_prefer_ceil";
            default -> null;
        };
        if (!mode.equals("nearest") || equivalent == null)
            throw new UnsupportedException(n.describe() + ": coordinate_transformation_mode 'tf_half_pixel_for_nn' "
                    + "(opsets 11-12 only) with mode '" + mode + "' and nearest_mode '" + nearest + "' has no "
                    + "equivalent in opset 13 and later");
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        a.put("coordinate_transformation_mode", Attr.of("half_pixel"));
        a.put("nearest_mode", Attr.of(equivalent));
        return n.withAttrs(a);
    }

    /**
     * Scan-8 carried a batch axis: every state is {@code [B, ...]} and every scan input {@code [B, T, ...]}, and the
     * body runs per batch element. Scan-9 has no batch axis, so an outer Scan over the batch runs the original scan
     * for each element, and stacks final states and scan outputs along axis 0:
     * <pre>
     * Scan-8{body, M}(_, s.., x..)  ->  Scan{num_scan_inputs=N+M, body = (s_b.., x_b..) -> Scan{body, M}(s_b.., x_b..)}(s.., x..)
     * </pre>
     */
    private static void scanWithBatchAxis(Node n, OpsetUpgrader.Emitter e) {
        if (!(n.attr("body") instanceof Attr.GraphAttr ga))
            throw new GaleException(n.describe() + ": has no body graph");
        Graph body = ga.value();
        long m = n.attr("num_scan_inputs") instanceof Attr.IntAttr i ? i.value() : -1;
        if (n.hasInput(0))
            throw new UnsupportedException(n.describe() + ": Scan-8 with sequence_lens is not supported; export the "
                    + "model with opset 9 or later");
        List<Value> outer = n.inputs().subList(Math.min(1, n.inputs().size()), n.inputs().size());
        int states = (int) (outer.size() - m);
        if (m < 0 || states < 0 || body.inputs().size() != outer.size() || body.outputs().size() != n.outputs().size())
            throw new GaleException(n.describe() + ": the body's " + body.inputs().size() + " inputs and "
                    + body.outputs().size() + " outputs do not fit the node's " + outer.size() + " inputs, "
                    + n.outputs().size() + " outputs and num_scan_inputs=" + m);
        List<Value> perBatchIn = new ArrayList<>();
        for (int i = 0; i < outer.size(); i++) {
            Type t = dropLeadingDim(e.typeOf(outer.get(i)));
            if (t == null) t = i < states ? body.inputs().get(i).type() : prependUnknown(body.inputs().get(i).type());
            perBatchIn.add(new Value(e.fresh("batch_in" + i), t));
        }
        List<Value> perBatchOut = new ArrayList<>();
        for (int k = 0; k < n.outputs().size(); k++) {
            Type t = body.outputs().get(k).type();
            perBatchOut.add(new Value(e.fresh("batch_out" + k), k < states ? t : prependUnknown(t)));
        }
        Map<String, Attr> inner = new LinkedHashMap<>();
        inner.put("body", Attr.of(body));
        inner.put("num_scan_inputs", Attr.of(m));
        if (n.attr("directions") != null) inner.put("scan_input_directions", n.attr("directions"));
        Node perBatch = new Node(e.fresh("per_batch_scan"), "", "Scan", perBatchIn, perBatchOut, inner);
        Graph outerBody = new Graph(body.name() + "_batch", perBatchIn, perBatchOut, List.of(perBatch), Map.of());
        // The importer infers the nodes it reads; this graph is made here, so it is inferred here.
        if (dev.gale.ir.op.OpTable.lookup("", "Scan") != null) outerBody = ShapeInference.run(outerBody, e.scope.types());
        List<Value> outs = new ArrayList<>();
        for (Value o : n.outputs()) outs.add(o.isNone() ? new Value(e.fresh("unused"), null) : o);
        e.add(new Node(n.name(), "", "Scan", outer, outs, Map.of("body", Attr.of(outerBody),
                "num_scan_inputs", Attr.of((long) outer.size()))));
    }

    private static Type dropLeadingDim(Type t) {
        if (!(t instanceof Type.TensorType tt) || tt.shape() == null || tt.shape().rank() == 0) return null;
        return Type.tensor(tt.dtype(), new Shape(tt.shape().dims().subList(1, tt.shape().rank())));
    }

    private static Type prependUnknown(Type t) {
        if (!(t instanceof Type.TensorType tt) || tt.shape() == null) return t;
        List<Dim> dims = new ArrayList<>();
        dims.add(Dim.UNKNOWN);
        dims.addAll(tt.shape().dims());
        return Type.tensor(tt.dtype(), new Shape(dims));
    }

    /** Tile-1 repeated along one axis: {@code Tile(x, tiles, axis) -> Tile(x, [1,..,tiles,..,1])}. */
    private static void tileAlongAxis(Node n, OpsetUpgrader.Emitter e) {
        if (n.inputs().size() != 3) {
            e.add(n);
            return;
        }
        Tensor tiles = e.constantOf(n.input(1)), axis = e.constantOf(n.input(2));
        int rank = e.rankOf(n.input(0));
        if (tiles == null || axis == null || rank < 0 || tiles.numel() != 1 || axis.numel() != 1)
            throw new UnsupportedException(n.describe() + ": Tile-1 needs constant tiles and axis and an input of "
                    + "known rank");
        long a = axis.getLong(0) < 0 ? axis.getLong(0) + rank : axis.getLong(0);
        if (a < 0 || a >= rank) throw new GaleException(n.describe() + ": axis " + axis.getLong(0) + " out of range");
        long[] repeats = new long[rank];
        java.util.Arrays.fill(repeats, 1);
        repeats[(int) a] = tiles.getLong(0);
        e.add(n.withInputs(List.of(n.input(0), e.constant(Tensor.vector(repeats), "repeats"))));
    }

    /** Experimental ops of opsets 1-9 (removed in 10), written with standard ops. */
    private static void experimental(Node n, OpsetUpgrader.Emitter e) {
        Value x = n.input(0);
        switch (n.op()) {
            case "ImageScaler" -> {
                // y = x * scale + bias[c]
                float[] bias = n.attr("bias") instanceof Attr.FloatsAttr b ? b.values() : new float[0];
                int rank = Math.max(e.rankOf(x), 2);
                long[] shape = new long[rank - 1];
                java.util.Arrays.fill(shape, 1);
                shape[0] = bias.length;
                Value scaled = e.op("Mul", List.of(x, scalarLike(x, floatAttr(n, "scale", 1f), "scale", e)), Map.of(),
                        "scaled");
                Value b = e.constant(cast(Tensor.ofFloats(bias.length == 0 ? new long[0] : shape, bias), x, e), "bias");
                finish(n, "Add", List.of(scaled, b), e);
            }
            case "Scale" -> finish(n, "Mul", List.of(x, scalarLike(x, floatAttr(n, "scale", 1f), "scale", e)), e);
            case "Affine" -> {
                Value ax = e.op("Mul", List.of(x, scalarLike(x, floatAttr(n, "alpha", 1f), "alpha", e)), Map.of(), "ax");
                finish(n, "Add", List.of(ax, scalarLike(x, floatAttr(n, "beta", 0f), "beta", e)), e);
            }
            case "ScaledTanh", "ParametricSoftplus" -> {
                Value bx = e.op("Mul", List.of(x, scalarLike(x, floatAttr(n, "beta", 1f), "beta", e)), Map.of(), "bx");
                Value f = e.op(n.op().equals("ScaledTanh") ? "Tanh" : "Softplus", List.of(bx), Map.of(), "f");
                finish(n, "Mul", List.of(f, scalarLike(x, floatAttr(n, "alpha", 1f), "alpha", e)), e);
            }
            case "Crop" -> {
                // border = [left, top, right, bottom]; scale = [height, width] of the crop, if given
                long[] border = n.attr("border") instanceof Attr.IntsAttr b ? b.values() : new long[4];
                long[] scale = n.attr("scale") instanceof Attr.IntsAttr s ? s.values() : null;
                if (border.length != 4) throw new GaleException(n.describe() + ": border must have 4 values");
                long[] starts = {border[1], border[0]};
                long[] ends = scale != null ? new long[] {border[1] + scale[0], border[0] + scale[1]}
                        : new long[] {border[3] == 0 ? Long.MAX_VALUE : -border[3], border[2] == 0 ? Long.MAX_VALUE : -border[2]};
                finish(n, "Slice", List.of(x, e.constant(Tensor.vector(starts), "starts"),
                        e.constant(Tensor.vector(ends), "ends"), e.constant(Tensor.vector(2, 3), "axes")), e);
            }
            case "DynamicSlice" -> finish(n, "Slice", n.inputs(), e);
            default -> throw new IllegalStateException(n.op());
        }
    }

    private static void finish(Node n, String op, List<Value> in, OpsetUpgrader.Emitter e) {
        e.add(new Node(n.name(), "", op, in, n.outputs(), Map.of()));
    }

    private static float floatAttr(Node n, String name, float dflt) {
        return n.attr(name) instanceof Attr.FloatAttr f ? f.value() : dflt;
    }

    private static Value scalarLike(Value x, double value, String suffix, OpsetUpgrader.Emitter e) {
        return e.constant(cast(Tensor.ofDoubles(new long[0], value), x, e), suffix);
    }

    private static Tensor cast(Tensor t, Value like, OpsetUpgrader.Emitter e) {
        DType d = e.dtypeOf(like);
        if (d == null) d = DType.FLOAT32;
        if (d == t.dtype()) return t;
        Tensor r = Tensor.zeros(d, t.shape());
        for (int i = 0; i < t.numel(); i++) r.setDouble(i, t.getDouble(i));
        return r;
    }

    private static Node with(Node n, String attr, Attr value) { return n.withAttrs(with(n.attrs(), attr, value)); }

    private static Map<String, Attr> with(Map<String, Attr> attrs, String attr, Attr value) {
        Map<String, Attr> a = new LinkedHashMap<>(attrs);
        a.put(attr, value);
        return a;
    }

    private static Node without(Node n, String attr) {
        if (!n.attrs().containsKey(attr)) return n;
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        a.remove(attr);
        return n.withAttrs(a);
    }
}
