package dev.gale.onnx;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites a node written against an older opset into the form Gale's op table implements (the newest supported
 * opset). Most changes across opsets 1 to 18 moved an attribute into an input ({@code axes} of the reductions,
 * {@code split}, {@code pads}, {@code min}/{@code max}); those are one table row each: the attribute becomes a
 * {@code Constant} node feeding the input. Ops whose meaning changed get a dedicated rule.
 */
final class OpsetUpgrader {
    /** An attribute that became input {@code index} at opset {@code since}. */
    private record AttrToInput(String attr, int index, DType type) {}

    private record Move(int since, List<AttrToInput> moves) {}

    private static final Map<String, Move> MOVES = new HashMap<>();

    static {
        move("ReduceSum", 13, new AttrToInput("axes", 1, DType.INT64));
        for (String r : List.of("ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"))
            move(r, 18, new AttrToInput("axes", 1, DType.INT64));
        move("Squeeze", 13, new AttrToInput("axes", 1, DType.INT64));
        move("Unsqueeze", 13, new AttrToInput("axes", 1, DType.INT64));
        move("Split", 13, new AttrToInput("split", 1, DType.INT64));
        move("Slice", 10, new AttrToInput("starts", 1, DType.INT64), new AttrToInput("ends", 2, DType.INT64),
                new AttrToInput("axes", 3, DType.INT64));
        move("Pad", 11, new AttrToInput("pads", 1, DType.INT64), new AttrToInput("value", 2, null));
        move("Clip", 11, new AttrToInput("min", 1, null), new AttrToInput("max", 2, null));
        move("TopK", 10, new AttrToInput("k", 1, DType.INT64));
        move("Upsample", 9, new AttrToInput("scales", 1, DType.FLOAT32));
        move("Dropout", 12, new AttrToInput("ratio", 1, DType.FLOAT32));
        move("Reshape", 5, new AttrToInput("shape", 1, DType.INT64));
    }

    private static void move(String op, int since, AttrToInput... moves) {
        MOVES.put(op, new Move(since, List.of(moves)));
    }

    private final Map<String, Integer> opsets;

    OpsetUpgrader(Map<String, Integer> opsets) { this.opsets = opsets; }

    private int version(Node n) { return opsets.getOrDefault(n.domain(), 1); }

    /** The node in the op table's form, preceded by any Constant nodes the rewrite needs. */
    List<Node> upgrade(Node n) {
        if (!n.domain().isEmpty()) return List.of(n);
        if (n.op().equals("Scan") && version(n) < 9) return List.of(Scan8Upgrade.upgrade(n));
        Move m = MOVES.get(n.op());
        if (m == null || version(n) >= m.since()) return List.of(n);
        return attrsToInputs(n, m.moves());
    }

    private static List<Node> attrsToInputs(Node n, List<AttrToInput> moves) {
        List<Node> out = new ArrayList<>();
        Map<String, Attr> attrs = new LinkedHashMap<>(n.attrs());
        List<Value> inputs = new ArrayList<>(n.inputs());
        for (AttrToInput mv : moves) {
            Attr a = attrs.remove(mv.attr());
            if (a == null) continue;
            Tensor t = constantFor(a, mv.type(), n);
            Value v = new Value(baseName(n) + "__" + mv.attr(), t.type());
            out.add(new Node(v.name(), "", "Constant", List.of(), List.of(v), Map.of("value", Attr.of(t))));
            while (inputs.size() <= mv.index()) inputs.add(Value.NONE);
            inputs.set(mv.index(), v);
        }
        out.add(new Node(n.name(), n.domain(), n.op(), inputs, n.outputs(), attrs));
        return out;
    }

    private static String baseName(Node n) {
        return n.outputs().isEmpty() ? n.name() : n.outputs().get(0).name();
    }

    /** The attribute's value as a tensor; a null type keeps scalars as the float32 the old attribute held. */
    private static Tensor constantFor(Attr a, DType type, Node n) {
        return switch (a) {
            case Attr.IntsAttr ints -> Tensor.vector(ints.values());
            case Attr.IntAttr i -> type == DType.INT64 ? Tensor.ofLongs(new long[0], i.value())
                    : Tensor.scalar(DType.FLOAT32, i.value());
            case Attr.FloatsAttr fs -> Tensor.ofFloats(new long[] {fs.values().length}, fs.values());
            case Attr.FloatAttr f -> Tensor.ofFloats(new long[0], f.value());
            default -> throw new dev.gale.ir.GaleException(n.describe() + ": attribute of kind " + a.kind()
                    + " cannot become an input");
        };
    }
}
