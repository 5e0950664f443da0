package dev.gale.cli;

import dev.gale.ir.Model;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextPrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gale print MODEL [--inline-weights]}: the model as Gale text IR on stdout. */
@Command(name = "print", mixinStandardHelpOptions = true,
        description = "Print a model as Gale text IR. Large tensors are summarized unless --inline-weights is given; "
                + "the inlined form reads back (gale run FILE.gir) to the same model.")
final class PrintCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "An .onnx or .gir file.")
    Path model;

    @Option(names = "--inline-weights", description = "Write every tensor in full (hex of its little-endian bytes).")
    boolean inlineWeights;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Model m = ModelFiles.load(model);
        PrintWriter out = spec.commandLine().getOut();
        out.print(TextPrinter.print(m, inlineWeights ? PrintOptions.INLINE : PrintOptions.SUMMARY));
        out.flush();
        return 0;
    }
}
