package dev.gale.torture.golden;

import dev.gale.ir.Model;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextParser;
import dev.gale.ir.text.TextPrinter;
import dev.gale.ir.text.UseTypes;
import dev.gale.torture.ConformanceModels;
import dev.gale.torture.PyTorchModelsTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * For every ONNX backend-test model that Gale imports, the text IR round-trips: printing with inlined weights and
 * parsing gives back an equal model (uses typed as their definitions, see {@link UseTypes}), and printing that again
 * gives the same text. Models that do not import (ops still missing) are counted and skipped.
 */
class OnnxTextRoundTripTest {
    @ParameterizedTest
    @ValueSource(strings = {"node", "simple", "pytorch-converted", "pytorch-operator"})
    void importedModelsRoundTrip(String suite) {
        Path dir = ConformanceModels.DATA.resolve(suite);
        Assumptions.assumeTrue(Files.isDirectory(dir), dir + " is missing (Debian's libonnx-testdata)");
        List<Path> models = ConformanceModels.tests(dir);
        int imported = 0, passed = 0;
        List<String> failures = new ArrayList<>();
        for (Path test : models) {
            String name = test.getFileName().toString();
            Model m;
            try {
                m = ConformanceModels.load(test);
            } catch (RuntimeException e) {
                continue; // an op still missing or an import problem: not the text IR's concern
            }
            imported++;
            String problem = roundTrip(m, name);
            if (problem == null) passed++;
            else failures.add(name + ": " + problem);
        }
        System.out.printf("text round trip %s: %d models, %d imported, %d round-trip%n", suite, models.size(),
                imported, passed);
        failures.forEach(f -> System.out.println("  " + f));
        int total = imported;
        assertTrue(failures.isEmpty(), () -> failures.size() + " of " + total + " imported " + suite
                + " models do not round-trip through text, first: " + failures.get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void pytorchModelsRoundTrip(String name) {
        String problem = roundTrip(ConformanceModels.load(PyTorchModelsTest.model(name)), name);
        assertTrue(problem == null, () -> name + ": " + problem);
    }

    /** Null when {@code m} round-trips, else what differs. */
    static String roundTrip(Model m, String name) {
        try {
            String text = TextPrinter.print(m, PrintOptions.INLINE);
            Model back = TextParser.parse(text, name + ".gir");
            if (!m.equals(back)) return "parse(print(m)) differs from m" + firstDifference(m, back);
            if (!text.equals(TextPrinter.print(back, PrintOptions.INLINE))) return "printing is not a fixed point";
            return null;
        } catch (RuntimeException e) {
            return e.toString();
        }
    }

    private static String firstDifference(Model a, Model b) {
        Model ra = UseTypes.refresh(a);
        if (!ra.opsets().equals(b.opsets()) || !ra.producer().equals(b.producer())
                || !ra.metadata().equals(b.metadata())) return " (header)";
        var ga = ra.graph();
        var gb = b.graph();
        if (!ga.inputs().equals(gb.inputs())) return " (inputs " + ga.inputs() + " vs " + gb.inputs() + ")";
        if (!ga.outputs().equals(gb.outputs())) return " (outputs " + ga.outputs() + " vs " + gb.outputs() + ")";
        if (!ga.initializers().equals(gb.initializers())) return " (initializers)";
        for (int i = 0; i < Math.min(ga.nodes().size(), gb.nodes().size()); i++)
            if (!ga.nodes().get(i).equals(gb.nodes().get(i)))
                return " (node " + i + ": " + ga.nodes().get(i) + " vs " + gb.nodes().get(i) + ")";
        return " (node count " + ga.nodes().size() + " vs " + gb.nodes().size() + ")";
    }
}
