package dev.gale.cli;

import dev.gale.backends.Backends;
import dev.gale.backends.Session;
import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npz;
import dev.gale.train.BatchSampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gale eval}: classification accuracy of a model on held-out arrays. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Report the classification accuracy (argmax of the output over dimension 1) on an .npz data set.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL.onnx") Path model;
    @Option(names = "--data", required = true, paramLabel = "DATA.npz") Path data;
    @Option(names = "--feed", required = true, split = ",", paramLabel = "INPUT=ARRAY") List<String> feed;
    @Option(names = "--labels", required = true, paramLabel = "ARRAY") String labels;
    @Option(names = "--batch-size", defaultValue = "256") int batchSize;
    @Option(names = "--backend", defaultValue = "cpu", description = "Backend: cpu or interp (default: ${DEFAULT-VALUE}).") String backend;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Model m = ModelFiles.load(model);
        Map<String, Tensor> arrays = Npz.read(data);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (String f : feed) {
            int eq = f.indexOf('=');
            if (eq <= 0) throw new GaleException("--feed '" + f + "' must be INPUT=ARRAY");
            Tensor t = arrays.get(f.substring(eq + 1));
            if (t == null) throw new GaleException("array '" + f.substring(eq + 1) + "' is not in " + data);
            inputs.put(f.substring(0, eq), t);
        }
        Tensor y = arrays.get(labels);
        if (y == null) throw new GaleException("array '" + labels + "' is not in " + data);
        int n = (int) y.dim(0), correct = 0;
        try (Session s = Backends.get(backend).open(m)) {
            for (int from = 0; from < n; from += batchSize) {
                int[] idx = new int[Math.min(batchSize, n - from)];
                for (int i = 0; i < idx.length; i++) idx[i] = from + i;
                Map<String, Object> feeds = new HashMap<>();
                for (Map.Entry<String, Tensor> e : inputs.entrySet()) feeds.put(e.getKey(), BatchSampler.rows(e.getValue(), idx));
                Tensor out = (Tensor) s.run(feeds).get(0);
                int classes = (int) out.dim(1);
                for (int i = 0; i < idx.length; i++) {
                    int best = 0;
                    for (int k = 1; k < classes; k++)
                        if (out.getDouble(i * classes + k) > out.getDouble(i * classes + best)) best = k;
                    if (best == y.getLong(from + i)) correct++;
                }
            }
        }
        spec.commandLine().getOut().printf("accuracy %.4f (%d/%d)%n", (double) correct / n, correct, n);
        return 0;
    }
}
