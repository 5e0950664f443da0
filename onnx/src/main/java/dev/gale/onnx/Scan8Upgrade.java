package dev.gale.onnx;

import dev.gale.ir.Attr;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rewrites an opset-8 Scan into the opset-9+ form the op table implements. Scan-8 has a leading batch axis on every
 * state and scan input (scan inputs are [batch, sequence, ...]) and an optional {@code sequence_lens} first input;
 * Scan-9 dropped both. The batch becomes an outer Scan-9 over axis 0 of every input, whose body runs the original
 * body as an inner Scan-9 on one batch entry:
 * <pre>
 *   Scan8[body, directions](lens, s..., x...)
 *     -> Scan9[num_scan_inputs = N + M, body = (s_b..., x_b...) { Scan9[body, directions](s_b..., x_b...) }](s..., x...)
 * </pre>
 * The outer Scan stacks each batch entry's final states and scan outputs back along axis 0. Per-batch sequence
 * lengths have no Scan-9 equivalent, so a non-empty {@code sequence_lens} is rejected.
 */
final class Scan8Upgrade {
    private Scan8Upgrade() {}

    static Node upgrade(Node n) {
        if (n.hasInput(0))
            throw new GaleException(n.describe() + ": opset-8 Scan with sequence_lens is not supported; export the "
                    + "model with opset 9 or later, or with sequences of equal length and no sequence_lens input");
        if (!(n.attr("body") instanceof Attr.GraphAttr body))
            throw new GaleException(n.describe() + ": missing required attribute 'body'");
        List<Value> inputs = n.inputs().subList(Math.min(1, n.inputs().size()), n.inputs().size());
        String base = (n.outputs().isEmpty() ? n.name() : n.outputs().get(0).name()) + "__scan8_";
        List<Value> entryIn = new ArrayList<>(), entryOut = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) entryIn.add(new Value(base + "in" + i, null));
        for (int i = 0; i < n.outputs().size(); i++) entryOut.add(new Value(base + "out" + i, null));
        Map<String, Attr> innerAttrs = new TreeMap<>();
        innerAttrs.put("body", body);
        innerAttrs.put("num_scan_inputs", n.attr("num_scan_inputs"));
        if (n.attr("directions") != null) innerAttrs.put("scan_input_directions", n.attr("directions"));
        Node inner = new Node(base + "inner", "", "Scan", entryIn, entryOut, innerAttrs);
        Graph perEntry = new Graph(body.value().name() + "_per_batch_entry", entryIn, entryOut, List.of(inner), Map.of());
        return new Node(n.name(), "", "Scan", inputs, n.outputs(),
                Map.of("body", Attr.of(perEntry), "num_scan_inputs", Attr.of((long) inputs.size())));
    }
}
