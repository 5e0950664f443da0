package dev.gale.ir.op;

import dev.gale.ir.Attr;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One entry of the op table: arity, attribute schema with defaults, fusion category and type inference of an op.
 * Entries are declared with {@link #define} in the family files ({@code ElementwiseOps}, {@code ShapeOps}, ...):
 * <pre>{@code
 * define("LeakyRelu").inputs(1).outputs(1).attr("alpha", 0.01f).category(ELEMENTWISE).infer(Infer.sameAs(0));
 * }</pre>
 */
public final class OpSchema {
    /** Input or output count with no upper bound. */
    public static final int VARIADIC = Integer.MAX_VALUE;

    private final String domain;
    private final String name;
    private int minInputs, maxInputs, minOutputs = 1, maxOutputs = 1;
    private final Map<String, AttrSpec> attrs = new LinkedHashMap<>();
    private FusionCategory category = FusionCategory.OPAQUE;
    private TypeInference inference;
    private String doc = "";
    private GradientRule gradient;

    private OpSchema(String domain, String name) {
        this.domain = domain;
        this.name = name;
    }

    /** Starts an entry in the default (ai.onnx) domain; {@link OpTable#register} adds it to the table. */
    public static OpSchema define(String name) { return new OpSchema("", name); }

    public static OpSchema define(String domain, String name) { return new OpSchema(domain, name); }

    public OpSchema inputs(int n) { return inputs(n, n); }

    public OpSchema inputs(int min, int max) {
        minInputs = min;
        maxInputs = max;
        return this;
    }

    public OpSchema outputs(int n) { return outputs(n, n); }

    public OpSchema outputs(int min, int max) {
        minOutputs = min;
        maxOutputs = max;
        return this;
    }

    public OpSchema attr(String attrName, float def) { return put(attrName, Attr.Kind.FLOAT, Attr.of(def), false); }

    public OpSchema attr(String attrName, long def) { return put(attrName, Attr.Kind.INT, Attr.of(def), false); }

    public OpSchema attr(String attrName, String def) { return put(attrName, Attr.Kind.STRING, Attr.of(def), false); }

    public OpSchema attrInts(String attrName, long... def) {
        return put(attrName, Attr.Kind.INTS, new Attr.IntsAttr(def.clone()), false);
    }

    public OpSchema attrFloats(String attrName, float... def) {
        return put(attrName, Attr.Kind.FLOATS, new Attr.FloatsAttr(def.clone()), false);
    }

    /** An optional attribute without a default: its absence means something the op's doc defines. */
    public OpSchema optional(String attrName, Attr.Kind kind) { return put(attrName, kind, null, false); }

    public OpSchema required(String attrName, Attr.Kind kind) { return put(attrName, kind, null, true); }

    private OpSchema put(String attrName, Attr.Kind kind, Attr def, boolean req) {
        attrs.put(attrName, new AttrSpec(attrName, kind, def, req));
        return this;
    }

    public OpSchema category(FusionCategory c) {
        category = c;
        return this;
    }

    public OpSchema infer(TypeInference f) {
        inference = f;
        return this;
    }

    /** The backward rule; ops without one are not differentiable (autodiff names them in its error). */
    public OpSchema gradient(GradientRule g) {
        gradient = g;
        return this;
    }

    public OpSchema doc(String d) {
        doc = d;
        return this;
    }

    /** Adds this entry to the op table; the last call of a {@code define(...)} chain. */
    public void register() { OpTable.register(this); }

    public String domain() { return domain; }

    public String name() { return name; }

    public String key() { return OpTable.key(domain, name); }

    public int minInputs() { return minInputs; }

    public int maxInputs() { return maxInputs; }

    public int minOutputs() { return minOutputs; }

    public int maxOutputs() { return maxOutputs; }

    public Map<String, AttrSpec> attrs() { return Collections.unmodifiableMap(attrs); }

    public AttrSpec attr(String attrName) { return attrs.get(attrName); }

    public FusionCategory category() { return category; }

    /** The type inference function; null means outputs keep the types the model declares. */
    public TypeInference inference() { return inference; }

    public String doc() { return doc; }

    public GradientRule gradient() { return gradient; }
}
