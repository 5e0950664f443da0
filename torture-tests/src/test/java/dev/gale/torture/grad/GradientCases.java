package dev.gale.torture.grad;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Gradient-check cases per op family (each family's rules add their cases here). */
final class GradientCases {
    private GradientCases() {}

    static List<GradientRulesTest.Case> all(Random r) {
        List<GradientRulesTest.Case> c = new ArrayList<>();
        c.addAll(GradientCasesElementwise.cases(r));
        c.addAll(GradientCasesReduction.cases(r));
        c.addAll(GradientCasesShape.cases(r));
        c.addAll(GradientCasesNn.cases(r));
        return c;
    }
}
