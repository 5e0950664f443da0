package dev.gale.cli;

import dev.gale.train.Trainer;

import java.io.PrintWriter;

/** Training progress: a redrawn bar on a terminal (steps/s, loss, ETA); plain lines otherwise. */
final class ProgressPrinter implements Trainer.Progress {
    private final boolean terminal;
    private final PrintWriter bar, lines;
    private final long start = System.nanoTime();
    private long first = -1;

    ProgressPrinter(boolean terminal, PrintWriter bar, PrintWriter lines) {
        this.terminal = terminal;
        this.bar = bar;
        this.lines = lines;
    }

    @Override
    public void step(long step, long steps, double loss, double lr) {
        if (first < 0) first = step - 1;
        double secs = (System.nanoTime() - start) / 1e9;
        double rate = (step - first) / Math.max(secs, 1e-9);
        double eta = (steps - step) / Math.max(rate, 1e-9);
        if (terminal) {
            int width = 30, filled = (int) (width * step / steps);
            bar.printf("\r[%s%s] %d/%d  %.1f steps/s  loss %.4f  ETA %s ", "#".repeat(filled), ".".repeat(width - filled),
                    step, steps, rate, loss, time(eta));
            bar.flush();
        } else {
            long every = Math.max(1, steps / 20);
            if (step % every == 0 || step == steps || step == first + 1) {
                lines.printf("step %d/%d loss %.6f lr %.3g (%.1f steps/s, ETA %s)%n", step, steps, loss, lr, rate, time(eta));
                lines.flush();
            }
        }
    }

    void done() {
        if (terminal) {
            bar.println();
            bar.flush();
        }
    }

    private static String time(double s) {
        if (s < 60) return String.format("%.0fs", s);
        if (s < 3600) return String.format("%dm%02ds", (long) s / 60, (long) s % 60);
        return String.format("%dh%02dm", (long) s / 3600, ((long) s % 3600) / 60);
    }
}
