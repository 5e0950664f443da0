package dev.gale.cli;

import dev.gale.ir.GaleException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;

/** The {@code gale} command: compiles, runs and trains models. User errors print one line and exit non-zero. */
@Command(name = "gale", mixinStandardHelpOptions = true, versionProvider = Gale.Version.class,
        description = "Gale: a graph-compiling training accelerator for the JVM.",
        subcommands = {RunCommand.class, PrintCommand.class, TrainCommand.class, EvalCommand.class,
                ConformanceCommand.class, OpsCommand.class, CompileCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Gale implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code (0 ok, 1 error, 2 usage). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Gale());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof GaleException) {
                err.println("gale: error: " + ex.getMessage());
            } else {
                err.println("gale: internal error: " + ex);
                if (System.getenv("GALE_DEBUG") != null) ex.printStackTrace(err);
                else err.println("(set GALE_DEBUG=1 for a stack trace, and please report it)");
            }
            err.flush();
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("gale: error: out of memory; raise -Xmx (JAVA_OPTS) or use a smaller model or batch");
            err.flush();
            return 1;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Gale.class.getResourceAsStream("/gale-version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {"gale " + p.getProperty("version", "unknown"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
