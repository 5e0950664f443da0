package dev.gale.ir;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class VerifierTest {
    private static final Type F = Type.tensor(DType.FLOAT32, 2);

    @Test
    void reportsUseBeforeDefinition() {
        Value x = new Value("x", F), a = new Value("a", F), b = new Value("b", F);
        Graph g = new Graph("g", List.of(x), List.of(b), List.of(
                new Node("n1", "", "Relu", List.of(a), List.of(b), Map.of()),
                new Node("n2", "", "Relu", List.of(x), List.of(a), Map.of())), Map.of());
        List<String> problems = Verifier.check(g);
        assertTrue(problems.stream().anyMatch(p -> p.contains("'a' is not defined before use")), problems.toString());
    }

    @Test
    void reportsArityUnknownAttributeAndDuplicateDefinition() {
        Value x = new Value("x", F), y = new Value("y", F);
        Graph g = new Graph("g", List.of(x), List.of(y), List.of(
                new Node("r", "", "Relu", List.of(x, x), List.of(y), Map.of("alpha", Attr.of(1f))),
                new Node("s", "", "Relu", List.of(x), List.of(y), Map.of())), Map.of());
        List<String> problems = Verifier.check(g);
        assertTrue(problems.stream().anyMatch(p -> p.contains("node 'r' (Relu): has 2 inputs, expected 1")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("unknown attribute 'alpha'")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("defined twice")), problems.toString());
    }

    @Test
    void reportsUndefinedOutput() {
        Value x = new Value("x", F);
        Graph g = new Graph("g", List.of(x), List.of(new Value("nope", F)), List.of(), Map.of());
        assertThrows(GaleException.class, () -> Verifier.verify(g));
    }
}
