package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.onnx.OnnxExporter;
import dev.gale.onnx.OnnxImporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code gale export MODEL -o OUT.onnx [--external-data]}: writes an {@code .onnx} or {@code .gir} model as an ONNX
 * file (ai.onnx opset 18). The model is converted as it is: training {@code Gradient} nodes stay (they are ONNX's
 * preview-training domain), nothing is lowered or optimized.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model (.onnx or .gir) as an ONNX file at opset 18, e.g. to run a .gir on ONNX Runtime.")
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "An .onnx or .gir file.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.onnx", description = "The ONNX file to write.")
    Path output;

    @Option(names = "--external-data", description = "Store initializers of 1 KiB or more in OUT.onnx.data beside "
            + "the model (used anyway for weights past the 2 GiB a protobuf message may hold).")
    boolean externalData;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Model m = load(model);
        checkOutput();
        Path data = output.resolveSibling(output.getFileName() + ".data");
        long before = lastModified(data);
        OnnxExporter.save(m, output, OnnxExporter.Options.DEFAULT.withExternalData(externalData));
        // The exporter also moves weights out by itself when they pass what one protobuf message may hold.
        boolean wroteData = Files.exists(data) && lastModified(data) != before;
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + output + (wroteData ? " and " + data.getFileName() : ""));
        out.flush();
        return 0;
    }

    private static long lastModified(Path p) {
        try {
            return Files.exists(p) ? Files.getLastModifiedTime(p).toMillis() : -1;
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static Model load(Path file) {
        if (!Files.exists(file)) throw new GaleException(file + ": no such file");
        if (Files.isDirectory(file)) throw new GaleException(file + ": is a folder, expected a model file");
        String name = file.getFileName().toString();
        if (name.endsWith(".gir")) return TextModels.parse(file);
        if (name.endsWith(".onnx")) return OnnxImporter.load(file);
        throw new GaleException(file + ": unknown model format; expected a file ending in .onnx or .gir");
    }

    private void checkOutput() {
        String name = output.getFileName() == null ? "" : output.getFileName().toString();
        if (!name.endsWith(".onnx"))
            throw new GaleException(output + ": the output must be an .onnx file (give -o NAME.onnx)");
        if (Files.isDirectory(output)) throw new GaleException(output + ": is a folder; give a file name ending in .onnx");
        Path dir = output.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir))
            throw new GaleException(output + ": folder " + dir + " does not exist; create it first");
        try {
            if (Files.isSameFile(model, output))
                throw new GaleException(output + ": is the input model; write the export to another file");
        } catch (java.io.IOException e) {
            // the output does not exist yet
        }
    }
}
