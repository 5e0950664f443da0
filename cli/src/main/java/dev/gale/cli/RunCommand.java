package dev.gale.cli;

import dev.gale.backends.Backends;
import dev.gale.backends.Session;
import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.io.Npy;
import dev.gale.onnx.AtomicFiles;
import dev.gale.onnx.OnnxTensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gale run MODEL --inputs DIR --outputs DIR}: runs a model once on input files. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a model on inputs read from a folder: input_K.pb (ONNX TensorProto, K in the order of the "
                + "graph's non-initializer inputs) or NAME.npy; writes output_K.pb (or NAME.npy) to the output folder.")
final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "An .onnx or .gir file.")
    Path model;

    @Option(names = "--inputs", required = true, paramLabel = "DIR", description = "Folder with the inputs.")
    Path inputs;

    @Option(names = "--outputs", required = true, paramLabel = "DIR", description = "Folder for the outputs (created).")
    Path outputs;

    @Option(names = "--backend", defaultValue = "cpu", description = "Backend: cpu or interp (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--format", defaultValue = "pb", description = "Output format: pb or npy (default: ${DEFAULT-VALUE}).")
    String format;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!format.equals("pb") && !format.equals("npy"))
            throw new GaleException("--format must be pb or npy, not '" + format + "'");
        Model m = ModelFiles.load(model);
        if (!Files.isDirectory(inputs)) throw new GaleException(inputs + ": input folder not found");
        List<Value> in = m.graph().runtimeInputs();
        Map<String, Object> feeds = new HashMap<>();
        for (int k = 0; k < in.size(); k++) {
            Value v = in.get(k);
            Path pb = inputs.resolve("input_" + k + ".pb"), npy = inputs.resolve(v.name() + ".npy");
            if (Files.exists(pb)) feeds.put(v.name(), OnnxTensors.readValue(pb, v.type()));
            else if (Files.exists(npy)) feeds.put(v.name(), Npy.read(Files.readAllBytes(npy), npy.toString()));
            else throw new GaleException("no value for input " + k + " '" + v.name() + "' (" + v.type()
                    + "): expected " + pb + " or " + npy);
        }
        List<Object> results;
        Map<String, Integer> fallbacks;
        try (Session s = Backends.get(backend).open(m)) {
            results = s.run(feeds);
            fallbacks = s.fallbackOps();
        }
        Files.createDirectories(outputs);
        PrintWriter out = spec.commandLine().getOut();
        for (int k = 0; k < results.size(); k++) {
            String name = m.graph().outputs().get(k).name();
            if (!(results.get(k) instanceof Tensor t))
                throw new GaleException("output '" + name + "' is not a tensor; only tensor outputs can be written");
            Path file = format.equals("pb") ? outputs.resolve("output_" + k + ".pb") : outputs.resolve(safe(name) + ".npy");
            if (format.equals("pb")) OnnxTensors.writeTensor(file, t, name);
            else AtomicFiles.write(file, Npy.write(t));
            out.println(file + ": " + name + " " + t.type());
        }
        FallbackNote.print(out, backend, fallbacks);
        return 0;
    }

    private static String safe(String name) { return name.replaceAll("[^A-Za-z0-9_.-]", "_"); }
}
