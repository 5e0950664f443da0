package dev.gale.cli;

import dev.gale.backends.interp.Kernels;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code gale ops}: lists the op table with fusion categories and interpreter support. */
@Command(name = "ops", mixinStandardHelpOptions = true, description = "List the ops Gale knows.")
final class OpsCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-40s %-24s %s%n", "op", "category", "interp");
        for (OpSchema s : OpTable.all())
            out.printf("%-40s %-24s %s%n", s.key(), s.category().name().toLowerCase(java.util.Locale.ROOT),
                    Kernels.supports(s.domain(), s.name()) ? "yes" : "no");
        out.println(OpTable.all().size() + " ops");
        return 0;
    }
}
