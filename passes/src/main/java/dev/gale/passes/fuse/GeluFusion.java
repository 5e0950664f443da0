package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.Pattern;
import dev.gale.passes.simplify.RewriteRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.fuse.FusionFacts.Inner.light;
import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.constant;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * GELU as exporters decompose it, fused into {@code Gelu}:
 *
 * <pre>
 * 0.5 * x * (1 + erf(x / sqrt 2))                                  -> Gelu(x)
 * 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))       -> Gelu(x) {approximate = "tanh"}
 * </pre>
 *
 * The product of the three factors x, 0.5 and (1 + ...) is matched in every association and operand order
 * (PyTorch writes {@code (x * (1 + erf)) * 0.5}, Hugging Face {@code (0.5 * x) * (1 + erf)}); {@code x / sqrt 2} may
 * be {@code x * (1 / sqrt 2)}, and x^3 {@code Pow(x, 3)} or {@code x * (x * x)}.
 *
 * <p>Conditions: x is a float tensor of known rank; every constant is a single number of x's element type that
 * broadcasts into x's shape without changing it (so the result has x's type, as Gelu's does); 0.5, 1 and 3 are
 * exact, sqrt 2, 1 / sqrt 2, sqrt(2 / pi) and 0.044715 within one unit in the last place of their element type;
 * intermediates disappear or are cheap to recompute ({@link FusionFacts#intermediatesOk}).
 */
final class GeluFusion {
    private GeluFusion() {}

    static final List<RewriteRule> RULES;

    static {
        List<RewriteRule> rules = new ArrayList<>();
        // x / sqrt 2  or  x * (1 / sqrt 2)
        List<Pattern> scaled = List.of(op("Div", any("x"), constant("sqrt2")).as("scale"),
                op("Mul", any("x"), constant("rsqrt2")).commutative().as("scale"));
        for (Pattern s : scaled) {
            // 1 + erf(x / sqrt 2)
            Pattern.Op cdf = op("Add", op("Erf", s).as("erf"), constant("one")).commutative().as("cdf");
            for (Pattern.Op root : products(cdf)) rules.add(RewriteRule.of("fuse.gelu", root,
                    m -> erfForm(m), (m, r) -> List.of(r.op("Gelu", List.of(m.value("x")), Map.of()))));
        }
        // x^3  as  Pow(x, 3)  or  x * (x * x)
        List<Pattern> cubes = List.of(op("Pow", any("x"), constant("three")).as("cube"),
                op("Mul", any("x"), op("Mul", any("x"), any("x")).as("square")).commutative().as("cube"));
        for (Pattern cube : cubes) {
            // 1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))
            Pattern.Op inner = op("Mul", constant("beta"), op("Add", any("x"),
                    op("Mul", constant("kappa"), cube).commutative().as("kx3")).commutative().as("poly"))
                    .commutative().as("inner");
            Pattern.Op cdf = op("Add", op("Tanh", inner).as("tanh"), constant("one")).commutative().as("cdf");
            for (Pattern.Op root : products(cdf)) rules.add(RewriteRule.of("fuse.gelu-tanh", root,
                    m -> tanhForm(m), (m, r) -> List.of(r.op("Gelu", List.of(m.value("x")),
                            Map.of("approximate", Attr.of("tanh"))))));
        }
        RULES = List.copyOf(rules);
    }

    /** x * 0.5 * cdf in its three associations: (x cdf) 0.5, (x 0.5) cdf, (cdf 0.5) x; each Mul either way round. */
    private static List<Pattern.Op> products(Pattern cdf) {
        Pattern x = any("x"), half = constant("half");
        return List.of(
                op("Mul", op("Mul", x, cdf).commutative().as("pair"), half).commutative(),
                op("Mul", op("Mul", x, half).commutative().as("pair"), cdf).commutative(),
                op("Mul", op("Mul", cdf, half).commutative().as("pair"), x).commutative());
    }

    private static boolean erfForm(Match m) {
        Type.TensorType x = FusionFacts.floatTensor(m, m.value("x"));
        if (!common(m, x)) return false;
        boolean div = m.node("scale").op().equals("Div");
        String c = div ? "sqrt2" : "rsqrt2";
        if (!FusionFacts.scalarInto(m, c, x) || !FusionFacts.near(m.constant(c), div ? Math.sqrt(2) : Math.sqrt(0.5)))
            return false;
        return FusionFacts.intermediatesOk(m, List.of(light(m.node("scale"), 1), light(m.node("erf"), 1),
                light(m.node("cdf"), 1), light(m.node("pair"), 1)));
    }

    private static boolean tanhForm(Match m) {
        Type.TensorType x = FusionFacts.floatTensor(m, m.value("x"));
        if (!common(m, x)) return false;
        for (String c : List.of("beta", "kappa")) if (!FusionFacts.scalarInto(m, c, x)) return false;
        if (!FusionFacts.near(m.constant("beta"), Math.sqrt(2 / Math.PI))
                || !FusionFacts.near(m.constant("kappa"), 0.044715))
            return false;
        Node cube = m.node("cube");
        List<FusionFacts.Inner> inner = new ArrayList<>(List.of(light(cube, 1), light(m.node("kx3"), 1),
                light(m.node("poly"), 1), light(m.node("inner"), 1), light(m.node("tanh"), 1),
                light(m.node("cdf"), 1), light(m.node("pair"), 1)));
        if (cube.op().equals("Pow")) {
            // x^3 with the exponent 3 of any numeric type, one number that does not widen x
            if (!FusionFacts.exactly(m.constant("three"), 3) || !fitsAsExponent(m, x)) return false;
        } else {
            inner.add(light(m.node("square"), 1));
        }
        return FusionFacts.intermediatesOk(m, inner);
    }

    /** x typed, 0.5 and 1 exact single numbers that do not change x's type. */
    private static boolean common(Match m, Type.TensorType x) {
        if (x == null) return false;
        for (String c : List.of("half", "one")) if (!FusionFacts.scalarInto(m, c, x)) return false;
        return FusionFacts.exactly(m.constant("half"), 0.5) && FusionFacts.exactly(m.constant("one"), 1);
    }

    private static boolean fitsAsExponent(Match m, Type.TensorType x) {
        Type.TensorType e = m.tensorType("three");
        return e != null && e.shape() != null && e.shape().rank() <= x.shape().rank()
                && m.constant("three").numel() == 1;
    }
}
