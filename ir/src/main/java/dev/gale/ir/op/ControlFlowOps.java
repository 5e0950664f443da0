package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: constants, identity and control flow (If, Loop, Scan). */
public final class ControlFlowOps {
    private ControlFlowOps() {}

    static void register() {
        define("Constant").inputs(0).outputs(1).category(OPAQUE)
                .optional("value", Attr.Kind.TENSOR).optional("value_float", Attr.Kind.FLOAT)
                .optional("value_floats", Attr.Kind.FLOATS).optional("value_int", Attr.Kind.INT)
                .optional("value_ints", Attr.Kind.INTS).optional("value_string", Attr.Kind.STRING)
                .optional("value_strings", Attr.Kind.STRINGS).optional("sparse_value", Attr.Kind.TENSOR)
                .infer(c -> List.of(constantValue(c.node().attrs(), c).type())).register();
        define("Identity").inputs(1).outputs(1).category(INJECTIVE).infer(Infer.sameAs(0)).register();
        define("If").inputs(1).outputs(1, OpSchema.VARIADIC).category(OPAQUE)
                .required("then_branch", Attr.Kind.GRAPH).required("else_branch", Attr.Kind.GRAPH)
                .infer(ControlFlowOps::inferIf).register();
        define("Loop").inputs(2, OpSchema.VARIADIC).outputs(0, OpSchema.VARIADIC).category(OPAQUE)
                .required("body", Attr.Kind.GRAPH).infer(ControlFlowOps::inferLoop).register();
        define("Scan").inputs(1, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC).category(OPAQUE)
                .required("body", Attr.Kind.GRAPH).required("num_scan_inputs", Attr.Kind.INT)
                .optional("scan_input_axes", Attr.Kind.INTS).optional("scan_input_directions", Attr.Kind.INTS)
                .optional("scan_output_axes", Attr.Kind.INTS).optional("scan_output_directions", Attr.Kind.INTS)
                .infer(ControlFlowOps::inferScan).register();
    }

    /** If: each output is what either branch can produce (same element type; differing dims become unknown). */
    private static List<Type> inferIf(InferContext c) {
        checkScalarBool(c, 0, "cond");
        Graph then = c.attrGraph("then_branch"), otherwise = c.attrGraph("else_branch");
        if (then.outputs().size() != otherwise.outputs().size())
            throw c.error("then_branch has " + then.outputs().size() + " outputs but else_branch has "
                    + otherwise.outputs().size());
        if (then.outputs().size() != c.numOutputs())
            throw c.error("the branches have " + then.outputs().size() + " outputs but the node has " + c.numOutputs());
        List<Type> a = NestedGraphs.outputTypes(then, List.of(), c, "then_branch");
        List<Type> b = NestedGraphs.outputTypes(otherwise, List.of(), c, "else_branch");
        List<Type> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) out.add(NestedGraphs.join(a.get(i), b.get(i), c));
        return out;
    }

    /**
     * Loop: body inputs are (iteration i64, cond bool, carried...), outputs (cond, carried..., scan outputs...).
     * A carried output is the initial value or any iteration's value; a scan output stacks the per-iteration values
     * along a new leading axis whose length (the trip count) is known only at run time.
     */
    private static List<Type> inferLoop(InferContext c) {
        Graph body = c.attrGraph("body");
        int carried = c.numInputs() - 2;
        if (c.hasInput(0)) checkScalar(c, 0, "M", DType.INT64);
        if (c.hasInput(1)) checkScalarBool(c, 1, "cond");
        if (body.inputs().size() != 2 + carried)
            throw c.error("the body has " + body.inputs().size() + " inputs, expected 2 + " + carried
                    + " loop-carried values");
        int scans = body.outputs().size() - 1 - carried;
        if (scans < 0)
            throw c.error("the body has " + body.outputs().size() + " outputs, expected at least 1 + " + carried);
        if (c.numOutputs() > carried + scans)
            throw c.error("the node has " + c.numOutputs() + " outputs, the body gives " + (carried + scans));
        List<Type> initial = new ArrayList<>();
        for (int k = 0; k < carried; k++) initial.add(c.inputType(2 + k));
        List<Type> fixed = List.of(Type.tensor(DType.INT64), Type.tensor(DType.BOOL));
        List<Type> bodyOut = NestedGraphs.loopFixpoint(body, fixed, initial, List.of(), 1, c, "the Loop body");
        List<Type> out = new ArrayList<>();
        for (int k = 0; k < carried; k++) out.add(NestedGraphs.join(initial.get(k), bodyOut.get(1 + k), c));
        for (int k = 0; k < scans; k++) out.add(stacked(bodyOut.get(1 + carried + k), 0, Dim.UNKNOWN, c));
        return out.subList(0, c.numOutputs());
    }

    /**
     * Scan (opset 9+ form): inputs are N initial states then M scan inputs; the body sees the states and one slice
     * of each scan input (the scan axis removed) and returns the new states and K scan-output elements.
     */
    private static List<Type> inferScan(InferContext c) {
        Graph body = c.attrGraph("body");
        int m = (int) c.attrInt("num_scan_inputs");
        int n = c.numInputs() - m;
        if (m < 1 || n < 0) throw c.error("num_scan_inputs " + m + " does not fit " + c.numInputs() + " inputs");
        if (body.inputs().size() != n + m)
            throw c.error("the body has " + body.inputs().size() + " inputs, expected " + (n + m));
        int k = body.outputs().size() - n;
        if (k < 0) throw c.error("the body has " + body.outputs().size() + " outputs, expected at least " + n);
        if (c.numOutputs() > n + k) throw c.error("the node has " + c.numOutputs() + " outputs, the body gives " + (n + k));
        long[] inAxes = scanAttr(c, "scan_input_axes", m), outAxes = scanAttr(c, "scan_output_axes", k);
        scanAttr(c, "scan_input_directions", m);
        scanAttr(c, "scan_output_directions", k);
        List<Type> slices = new ArrayList<>();
        Dim length = null;
        for (int j = 0; j < m; j++) {
            Type.TensorType t = c.tensorInput(n + j);
            if (t == null || t.shape() == null) {
                slices.add(t == null ? null : Type.unranked(t.dtype()));
                length = Dim.UNKNOWN;
                continue;
            }
            int axis = Infer.axis(inAxes[j], t.shape().rank(), c);
            List<Dim> dims = new ArrayList<>(t.shape().dims());
            Dim len = dims.remove(axis);
            if (length == null) length = len;
            else if (length.isFixed() && len.isFixed() && !length.equals(len))
                throw c.error("scan inputs have different sequence lengths " + length + " and " + len);
            else if (!length.equals(len)) length = length.isFixed() ? length : len.isFixed() ? len : Dim.UNKNOWN;
            slices.add(Type.tensor(t.dtype(), new Shape(dims)));
        }
        List<Type> initial = new ArrayList<>();
        for (int i = 0; i < n; i++) initial.add(c.inputType(i));
        List<Type> bodyOut = NestedGraphs.loopFixpoint(body, List.of(), initial, slices, 0, c, "the Scan body");
        List<Type> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(NestedGraphs.join(initial.get(i), bodyOut.get(i), c));
        for (int j = 0; j < k; j++) out.add(stacked(bodyOut.get(n + j), outAxes[j], length, c));
        return out.subList(0, c.numOutputs());
    }

    /** The attribute's values (one per scan input or output), zeros when absent; an error when the count is off. */
    private static long[] scanAttr(InferContext c, String name, int count) {
        if (!c.hasAttr(name)) return new long[count];
        long[] v = c.attrInts(name);
        if (v.length != count) throw c.error(name + " has " + v.length + " entries, expected " + count);
        if (name.endsWith("directions"))
            for (long d : v) if (d != 0 && d != 1) throw c.error(name + " entries must be 0 or 1, got " + d);
        return v;
    }

    /** The type of per-iteration values of type {@code element} stacked along a new axis of length {@code len}. */
    private static Type stacked(Type element, long axis, Dim len, InferContext c) {
        if (element == null) return null;
        if (!(element instanceof Type.TensorType t))
            throw c.error("a scan output must be a tensor, got " + element);
        if (t.shape() == null) return Type.unranked(t.dtype());
        int r = t.shape().rank() + 1;
        int a = Infer.axis(axis, r, c);
        List<Dim> dims = new ArrayList<>(t.shape().dims());
        dims.add(a, len);
        return Type.tensor(t.dtype(), new Shape(dims));
    }

    private static void checkScalarBool(InferContext c, int i, String name) { checkScalar(c, i, name, DType.BOOL); }

    /** The input must hold a single element of the given type (rank 0 or 1 with one element). */
    private static void checkScalar(InferContext c, int i, String name, DType dtype) {
        Type.TensorType t = c.tensorInput(i);
        if (t == null) {
            if (c.inputType(i) != null) throw c.error(name + " must be a tensor, got " + c.inputType(i));
            return;
        }
        if (t.dtype() != dtype) throw c.error(name + " must be " + dtype + ", got " + t.dtype());
        if (t.shape() != null && t.shape().numelOrMinus1() > 1)
            throw c.error(name + " must hold one element, has shape " + t.shape());
    }

    /**
     * The tensor a default-domain {@code Constant} node holds; null for any other node and for a Constant whose
     * attributes carry no value (the verifier names that one).
     */
    public static Tensor constantOf(dev.gale.ir.Node n) {
        if (!n.op().equals("Constant") || !n.domain().isEmpty()) return null;
        try {
            return constantValue(n.attrs(), null);
        } catch (dev.gale.ir.GaleException e) {
            return null;
        }
    }

    /** The tensor a Constant node holds, whichever of its attributes carries it. */
    public static Tensor constantValue(java.util.Map<String, Attr> attrs, InferContext c) {
        if (attrs.size() != 1)
            throw new dev.gale.ir.GaleException((c == null ? "Constant" : c.node().describe())
                    + ": needs exactly one value attribute, has " + attrs.keySet());
        Attr a = attrs.values().iterator().next();
        return switch (a) {
            case Attr.TensorAttr t -> t.value();
            case Attr.FloatAttr f -> Tensor.ofFloats(new long[0], f.value());
            case Attr.FloatsAttr f -> Tensor.ofFloats(new long[] {f.values().length}, f.values());
            case Attr.IntAttr i -> Tensor.ofLongs(new long[0], i.value());
            case Attr.IntsAttr i -> Tensor.ofLongs(new long[] {i.values().length}, i.values());
            case Attr.StringAttr s -> Tensor.ofStrings(new long[0], s.value());
            case Attr.StringsAttr s -> Tensor.ofStrings(new long[] {s.values().size()}, s.values().toArray(String[]::new));
            default -> throw new dev.gale.ir.GaleException("Constant attribute of kind " + a.kind() + " is not a value");
        };
    }

}
