package dev.gale.torture;

import dev.gale.cli.Gale;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** Runs the {@code gale} command line in-process, as the CLI tests do, capturing its exit code and output. */
public final class GaleCli {
    private GaleCli() {}

    /** Exit code, standard output and standard error of one command. */
    public record Result(int code, String out, String err) {}

    public static Result gale(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Gale.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    public static Result gale(List<String> args) { return gale(args.toArray(String[]::new)); }
}
