package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.OptionalValue;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: constants, identity and control flow (If, Loop, Scan). */
final class ControlFlowKernels {
    private ControlFlowKernels() {}

    static void registerAll() {
        // The op table resolves which attribute holds the value; the type inference already validated it.
        register("Constant", c -> List.of(dev.gale.ir.op.ControlFlowOps.constantValue(c.node().attrs(), null)));
        register("Identity", c -> List.of(c.value(0)));
        register("If", ControlFlowKernels::runIf);
        register("Loop", ControlFlowKernels::loop);
        register("Scan", ControlFlowKernels::scan);
    }

    private static List<Object> runIf(KernelCall c) {
        Graph branch = condition(c, 0, "cond") ? c.attrGraph("then_branch") : c.attrGraph("else_branch");
        List<Object> out = c.runGraph(branch, List.of());
        return asDeclared(out, c);
    }

    /** A one-element bool tensor's value. */
    private static boolean condition(KernelCall c, int i, String name) {
        Tensor t = c.required(i);
        if (t.numel() != 1) throw c.error(name + " must hold one element, has shape " + java.util.Arrays.toString(t.shape()));
        return t.getBool(0);
    }

    /**
     * Loop, as ONNX Runtime runs it: iterate while {@code i < M} (no limit when M is omitted) and while the condition
     * holds (true when cond is omitted); the body's condition output replaces it after every iteration. The body
     * gets (i, cond, carried...) and returns (cond, carried..., scan elements...); scan elements are stacked along a
     * new leading axis.
     */
    private static List<Object> loop(KernelCall c) {
        Graph body = c.attrGraph("body");
        long trips = c.has(0) ? c.required(0).getLong(0) : Long.MAX_VALUE;
        if (c.has(0) && c.required(0).numel() != 1) throw c.error("M must hold one element");
        boolean cond = !c.has(1) || condition(c, 1, "cond");
        int carriedCount = c.numInputs() - 2;
        int scanCount = body.outputs().size() - 1 - carriedCount;
        if (body.inputs().size() != 2 + carriedCount || scanCount < 0)
            throw c.error("the body's inputs and outputs do not match the node's " + carriedCount + " carried values");
        List<Object> carried = new ArrayList<>(c.values().subList(2, c.numInputs()));
        List<List<Tensor>> scans = new ArrayList<>();
        for (int k = 0; k < scanCount; k++) scans.add(new ArrayList<>());
        for (long i = 0; i < trips && cond; i++) {
            List<Object> in = new ArrayList<>();
            in.add(Tensor.ofLongs(new long[0], i));
            in.add(Tensor.ofBools(new long[0], cond));
            for (int k = 0; k < carriedCount; k++) in.add(coerce(carried.get(k), body.inputs().get(2 + k).type()));
            List<Object> out = c.runGraph(body, in);
            if (!(out.get(0) instanceof Tensor t) || t.numel() != 1)
                throw c.error("the body's condition output must be a one-element bool tensor");
            cond = t.getBool(0);
            for (int k = 0; k < carriedCount; k++) carried.set(k, out.get(1 + k));
            for (int k = 0; k < scanCount; k++) {
                if (!(out.get(1 + carriedCount + k) instanceof Tensor s))
                    throw c.error("scan output " + k + " of the body must be a tensor");
                scans.get(k).add(s);
            }
        }
        List<Object> result = new ArrayList<>(carried);
        for (int k = 0; k < scanCount; k++)
            result.add(stackOrEmpty(scans.get(k), 0, body.outputs().get(1 + carriedCount + k), c, carriedCount + k));
        return asDeclared(result.subList(0, Math.min(result.size(), c.numOutputs())), c);
    }

    /**
     * Scan (opset 9+): N states and M scan inputs. Iteration t passes each scan input's slice t along its scan axis
     * (counted from the end for direction 1); the body returns the new states and K elements that are stacked along
     * each scan output's axis (in reverse order for direction 1).
     */
    private static List<Object> scan(KernelCall c) {
        Graph body = c.attrGraph("body");
        int m = (int) c.attrInt("num_scan_inputs");
        int n = c.numInputs() - m;
        int k = body.outputs().size() - n;
        if (m < 1 || n < 0 || k < 0 || body.inputs().size() != n + m)
            throw c.error("num_scan_inputs " + m + " does not fit the node's inputs and the body");
        long[] inAxes = orZeros(c.attrInts("scan_input_axes"), m), inDirs = orZeros(c.attrInts("scan_input_directions"), m);
        long[] outAxes = orZeros(c.attrInts("scan_output_axes"), k);
        long[] outDirs = orZeros(c.attrInts("scan_output_directions"), k);
        List<Tensor> scanInputs = new ArrayList<>();
        int[] axes = new int[m];
        long length = -1;
        for (int j = 0; j < m; j++) {
            Tensor x = c.required(n + j);
            axes[j] = normalize(inAxes[j], x.rank(), c, "scan_input_axes");
            if (length < 0) length = x.dim(axes[j]);
            else if (length != x.dim(axes[j]))
                throw c.error("scan inputs have different sequence lengths " + length + " and " + x.dim(axes[j]));
            scanInputs.add(x);
        }
        List<Object> states = new ArrayList<>(c.values().subList(0, n));
        List<List<Tensor>> outs = new ArrayList<>();
        for (int j = 0; j < k; j++) outs.add(new ArrayList<>());
        for (long t = 0; t < length; t++) {
            List<Object> in = new ArrayList<>(states);
            for (int j = 0; j < m; j++)
                in.add(AxisSlices.select(scanInputs.get(j), axes[j], inDirs[j] == 1 ? length - 1 - t : t));
            List<Object> out = c.runGraph(body, in);
            for (int i = 0; i < n; i++) states.set(i, out.get(i));
            for (int j = 0; j < k; j++) {
                if (!(out.get(n + j) instanceof Tensor s)) throw c.error("scan output " + j + " of the body must be a tensor");
                outs.get(j).add(s);
            }
        }
        List<Object> result = new ArrayList<>(states);
        for (int j = 0; j < k; j++) {
            List<Tensor> elems = outs.get(j);
            if (outDirs[j] == 1) Collections.reverse(elems);
            result.add(stackOrEmpty(elems, outAxes[j], body.outputs().get(n + j), c, n + j));
        }
        return asDeclared(result.subList(0, Math.min(result.size(), c.numOutputs())), c);
    }

    private static long[] orZeros(long[] v, int count) { return v == null ? new long[count] : v; }

    private static int normalize(long axis, int rank, KernelCall c, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw c.error(what + " value " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    /**
     * Stacks per-iteration elements along {@code axis}; with no iterations, an empty tensor whose other dimensions
     * come from the body's declared output type (or the node's), when they are static.
     */
    private static Tensor stackOrEmpty(List<Tensor> elems, long axis, Value bodyOut, KernelCall c, int outIndex) {
        if (!elems.isEmpty()) {
            Tensor first = elems.get(0);
            return AxisSlices.stack(elems, normalize(axis, first.rank() + 1, c, "scan output axis"), first.dtype());
        }
        Type.TensorType declared = bodyOut.tensorType();
        Type.TensorType nodeOut = outIndex < c.numOutputs() ? c.node().output(outIndex).tensorType() : null;
        DType dtype = declared != null ? declared.dtype() : nodeOut != null ? nodeOut.dtype() : DType.FLOAT32;
        Shape s = declared != null ? declared.shape() : null;
        if (s == null || !s.isStatic()) return Tensor.zeros(dtype, 0);
        long[] sizes = s.sizes();
        return Tensor.zeros(dtype, AxisSlices.insert(sizes, normalize(axis, sizes.length + 1, c, "scan output axis"), 0));
    }

    /** Each output in the form the node's declared type asks for (an optional wrapping a value, or unwrapped). */
    private static List<Object> asDeclared(List<Object> out, KernelCall c) {
        List<Object> r = new ArrayList<>(out.size());
        for (int i = 0; i < out.size(); i++)
            r.add(i < c.numOutputs() ? coerce(out.get(i), c.node().output(i).type()) : out.get(i));
        return r;
    }

    /**
     * The value as a {@code type} expects it: a tensor or sequence becomes a present optional where an optional is
     * expected (loop-carried values may be declared optional and produced plain), and a present optional is unwrapped
     * where a plain value is expected.
     */
    static Object coerce(Object value, Type type) {
        if (type instanceof Type.OptionalType ot && !(value instanceof OptionalValue) && value != null)
            return new OptionalValue(ot.element(), value);
        if (type != null && !(type instanceof Type.OptionalType) && value instanceof OptionalValue ov && ov.isPresent())
            return ov.value();
        return value;
    }
}
