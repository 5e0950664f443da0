package dev.gale.train;

import dev.gale.ir.GaleException;
import dev.gale.onnx.AtomicFiles;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The loss log: CSV with header {@code step,loss}, one row per step, flushed as it goes. On resume the rows after
 * the checkpoint's step (written by the interrupted run) are dropped first, so the finished log equals an
 * uninterrupted run's.
 */
public final class LossLog implements AutoCloseable {
    private final BufferedWriter out;

    private LossLog(BufferedWriter out) { this.out = out; }

    public static LossLog create(Path file, long resumedStep) {
        try {
            List<String> keep = new ArrayList<>();
            keep.add("step,loss");
            if (resumedStep > 0 && Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    int comma = line.indexOf(',');
                    if (comma <= 0 || line.startsWith("step")) continue;
                    try {
                        if (Long.parseLong(line.substring(0, comma)) <= resumedStep) keep.add(line);
                    } catch (NumberFormatException e) {
                        throw new GaleException(file + ": not a loss log (line '" + line + "')");
                    }
                }
            }
            AtomicFiles.write(file, (String.join("\n", keep) + "\n").getBytes(StandardCharsets.UTF_8));
            return new LossLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new GaleException(file + ": cannot write the loss log (" + e.getMessage() + ")");
        }
    }

    public void append(long step, double loss) {
        try {
            out.write(step + "," + format(loss) + "\n");
            out.flush();
        } catch (IOException e) {
            throw new GaleException("cannot write the loss log (" + e.getMessage() + ")");
        }
    }

    /** Shortest text that reads back to the same float32 value of the loss. */
    static String format(double loss) { return Float.toString((float) loss); }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new GaleException("cannot close the loss log (" + e.getMessage() + ")");
        }
    }
}
