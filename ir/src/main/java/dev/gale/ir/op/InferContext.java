package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What type inference may look at for one node: input types, attributes (with the schema's defaults applied), and the
 * value of an input when it is a constant (an initializer or a {@code Constant} output).
 */
public final class InferContext {
    private final Node node;
    private final OpSchema schema;
    private final List<Type> inputTypes;
    private final Function<String, Tensor> constants;
    private final Map<String, Type> outerTypes;
    private final Function<String, List<SymInt>> shapeValues;

    public InferContext(Node node, OpSchema schema, List<Type> inputTypes, Function<String, Tensor> constants,
                        Map<String, Type> outerTypes) {
        this(node, schema, inputTypes, constants, outerTypes, name -> null);
    }

    /** As above, with the symbolic values of shape computations ({@link ShapeValues}) visible by value name. */
    public InferContext(Node node, OpSchema schema, List<Type> inputTypes, Function<String, Tensor> constants,
                        Map<String, Type> outerTypes, Function<String, List<SymInt>> shapeValues) {
        this.node = node;
        this.schema = schema;
        this.inputTypes = inputTypes;
        this.constants = constants;
        this.outerTypes = outerTypes;
        this.shapeValues = shapeValues;
    }

    public Node node() { return node; }

    public int numInputs() { return inputTypes.size(); }

    public int numOutputs() { return node.outputs().size(); }

    public boolean hasInput(int i) { return node.hasInput(i); }

    /** The input's type, or null when the input is omitted or its type is unknown. */
    public Type inputType(int i) { return i < inputTypes.size() ? inputTypes.get(i) : null; }

    public Type.TensorType tensorInput(int i) { return inputType(i) instanceof Type.TensorType t ? t : null; }

    /** The input's element type; throws a clear error when it is unknown. */
    public DType dtype(int i) {
        Type.TensorType t = tensorInput(i);
        if (t == null) throw error("the type of input " + i + " is unknown");
        return t.dtype();
    }

    /** The input's shape, or null when its rank is unknown. */
    public Shape shape(int i) {
        Type.TensorType t = tensorInput(i);
        return t == null ? null : t.shape();
    }

    /** The constant value of input {@code i}, or null if it is not known at compile time. */
    public Tensor constant(int i) {
        if (!node.hasInput(i)) return null;
        return constants.apply(node.input(i).name());
    }

    /**
     * The value of input {@code i} when it is a small integer tensor of rank 0 or 1 whose elements are known or are
     * symbolic dimension sizes (a shape computed by {@code Shape}, {@code Gather}, {@code Concat}, ...); null when
     * nothing is known about it. See {@link ShapeValues}.
     */
    public List<SymInt> shapeValue(int i) {
        if (!node.hasInput(i)) return null;
        List<SymInt> v = shapeValues.apply(node.input(i).name());
        return v != null ? v : ShapeValues.ofConstant(constant(i));
    }

    /** Types of the values visible to a nested graph of this node (for If/Loop/Scan bodies). */
    public Map<String, Type> outerTypes() { return outerTypes; }

    public Attr attr(String name) {
        Attr a = node.attr(name);
        if (a != null) return a;
        AttrSpec spec = schema.attr(name);
        return spec == null ? null : spec.defaultValue();
    }

    public boolean hasAttr(String name) { return node.attr(name) != null; }

    public long attrInt(String name) { return Attrs.asInt(attr(name), node, name); }

    public float attrFloat(String name) { return Attrs.asFloat(attr(name), node, name); }

    public String attrString(String name) { return Attrs.asString(attr(name), node, name); }

    public long[] attrInts(String name) { return Attrs.asInts(attr(name), node, name); }

    public Graph attrGraph(String name) { return Attrs.asGraph(attr(name), node, name); }

    public GaleException error(String message) {
        return new GaleException(node.describe() + ": " + message);
    }
}
