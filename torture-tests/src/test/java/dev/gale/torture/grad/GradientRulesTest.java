package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.op.OpTable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static dev.gale.torture.grad.GradientCheck.*;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Every gradient rule against finite differences in float64 on small random inputs. */
class GradientRulesTest {
    record Case(String name, String op, Map<String, Attr> attrs, List<Operand> operands, int outputs) {
        @Override
        public String toString() { return name; }
    }

    static Stream<Case> cases() {
        Random r = new Random(1);
        List<Case> c = new ArrayList<>();
        c.add(new Case("Add", "Add", Map.of(), List.of(param(r, 2, 3), param(r, 2, 3)), 1));
        c.add(new Case("Add broadcast", "Add", Map.of(), List.of(param(r, 2, 3), param(r, 3)), 1));
        c.add(new Case("Add broadcast 1", "Add", Map.of(), List.of(param(r, 2, 1, 4), param(r, 3, 1)), 1));
        c.add(new Case("Relu", "Relu", Map.of(), List.of(param(r, 3, 4)), 1));
        c.add(new Case("Identity", "Identity", Map.of(), List.of(param(r, 5)), 1));
        c.addAll(GradientCases.all(r));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ruleMatchesFiniteDifferences(Case k) {
        Assumptions.assumeTrue(OpTable.lookup("", k.op()) != null, k.op() + " is not in the op table yet");
        assertNull(check(k.op(), k.attrs(), k.operands(), k.outputs(), 1e-5));
    }
}
