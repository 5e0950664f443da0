package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.RecurrentOps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels for RNN, GRU and LSTM: every direction, both layouts, custom activations with their
 * alpha/beta, clip, per-batch sequence lengths (steps past a sequence's end give zeros in Y and leave its state
 * alone), initial states and LSTM peepholes. Each batch entry runs on its own, step by step, in float64.
 *
 * <p>Gate order (ONNX): RNN {@code i}; GRU {@code z, r, h}; LSTM {@code i, o, f, c}. B holds the W biases of all
 * gates, then the R biases.
 */
final class RecurrentKernels {
    private RecurrentKernels() {}

    static void registerAll() {
        register("RNN", c -> run(c, Cell.RNN));
        register("GRU", c -> run(c, Cell.GRU));
        register("LSTM", c -> run(c, Cell.LSTM));
    }

    private enum Cell {
        RNN, GRU, LSTM;

        final int gates = RecurrentOps.gates(name());
        final List<String> defaults = RecurrentOps.defaultActivations(name());
    }

    /** An activation function of the ONNX recurrent-op list, with its alpha and beta. */
    private record Activation(String name, double alpha, double beta) {
        double apply(double x) {
            return switch (name) {
                case "relu" -> Math.max(x, 0);
                case "tanh" -> Math.tanh(x);
                case "sigmoid" -> 1 / (1 + Math.exp(-x));
                case "affine" -> alpha * x + beta;
                case "leakyrelu" -> x >= 0 ? x : alpha * x;
                case "thresholdedrelu" -> x > alpha ? x : 0;
                case "scaledtanh" -> alpha * Math.tanh(beta * x);
                case "hardsigmoid" -> Math.max(0, Math.min(1, alpha * x + beta));
                case "elu" -> x >= 0 ? x : alpha * (Math.exp(x) - 1);
                case "softsign" -> x / (1 + Math.abs(x));
                case "softplus" -> Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
                default -> throw new IllegalStateException(name);
            };
        }

        static boolean usesAlpha(String n) {
            return List.of("affine", "leakyrelu", "thresholdedrelu", "scaledtanh", "hardsigmoid", "elu").contains(n);
        }

        static boolean usesBeta(String n) { return List.of("affine", "scaledtanh", "hardsigmoid").contains(n); }

        static double defaultAlpha(String n) {
            return switch (n) {
                case "leakyrelu" -> 0.01;
                case "hardsigmoid" -> 0.2;
                default -> 1.0;
            };
        }

        static double defaultBeta(String n) {
            return switch (n) {
                case "hardsigmoid" -> 0.5;
                case "affine" -> 0.0;
                default -> 1.0;
            };
        }
    }

    /**
     * The activations of each direction. Alphas and betas are consumed in list order by the activations that take
     * them; a bidirectional op given only one direction's list uses it for both.
     */
    private static Activation[][] activations(KernelCall c, Cell cell, int dirs) {
        List<String> names = c.attrStrings("activations");
        int per = cell.defaults.size();
        if (names == null) {
            names = new ArrayList<>();
            for (int d = 0; d < dirs; d++) names.addAll(cell.defaults);
        }
        if (names.size() != per && names.size() != per * dirs)
            throw c.error("activations lists " + names.size() + " functions, expected " + per * dirs);
        float[] alphas = c.attrFloats("activation_alpha"), betas = c.attrFloats("activation_beta");
        int ai = 0, bi = 0;
        Activation[] all = new Activation[names.size()];
        for (int k = 0; k < all.length; k++) {
            String n = names.get(k).toLowerCase(Locale.ROOT);
            double alpha = Activation.defaultAlpha(n), beta = Activation.defaultBeta(n);
            if (Activation.usesAlpha(n) && alphas != null && ai < alphas.length) alpha = alphas[ai++];
            if (Activation.usesBeta(n) && betas != null && bi < betas.length) beta = betas[bi++];
            Activation a = new Activation(n, alpha, beta);
            try {
                a.apply(0);
            } catch (IllegalStateException e) {
                throw c.error("unknown activation function '" + names.get(k) + "'");
            }
            all[k] = a;
        }
        Activation[][] out = new Activation[dirs][per];
        for (int d = 0; d < dirs; d++)
            for (int k = 0; k < per; k++) out[d][k] = all[all.length == per ? k : d * per + k];
        return out;
    }

    private static double[] shaped(KernelCall c, int i, long[] want, String name) {
        Tensor t = c.in(i);
        if (t == null) return null;
        if (!Arrays.equals(t.shape(), want))
            throw c.error(name + " must have shape " + Arrays.toString(want) + ", got " + Arrays.toString(t.shape()));
        return t.toDoubleArray();
    }

    /** Swaps the first two axes of a rank-3 array {@code [a, b, n]}. */
    private static double[] swap01(double[] v, int a, int b, int n) {
        double[] r = new double[v.length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++) System.arraycopy(v, (i * b + j) * n, r, (j * a + i) * n, n);
        return r;
    }

    private static List<Object> run(KernelCall c, Cell cell) {
        Tensor xt = c.required(0);
        NnKernels.requireFloat(c, xt, "X");
        if (xt.rank() != 3) throw c.error("X must have rank 3, got " + Arrays.toString(xt.shape()));
        int dirs = RecurrentOps.directions(c.attrString("direction"), c::error);
        boolean reverseOnly = c.attrString("direction").equals("reverse");
        long layout = c.attrInt("layout");
        if (layout != 0 && layout != 1) throw c.error("layout must be 0 or 1, got " + layout);
        boolean batchFirst = layout == 1;
        int seq = (int) xt.dim(batchFirst ? 1 : 0), batch = (int) xt.dim(batchFirst ? 0 : 1), in = (int) xt.dim(2);
        Tensor rt = c.required(2);
        if (rt.rank() != 3) throw c.error("R must have rank 3, got " + Arrays.toString(rt.shape()));
        int h = c.hasAttr("hidden_size") ? (int) c.attrInt("hidden_size") : (int) rt.dim(2);
        int g = cell.gates;
        double[] w = shaped(c, 1, new long[] {dirs, (long) g * h, in}, "W");
        double[] r = shaped(c, 2, new long[] {dirs, (long) g * h, h}, "R");
        double[] b = shaped(c, 3, new long[] {dirs, 2L * g * h}, "B");
        Tensor lens = c.in(4);
        if (lens != null && (lens.rank() != 1 || lens.dim(0) != batch))
            throw c.error("sequence_lens must have shape [" + batch + "], got " + Arrays.toString(lens.shape()));
        long[] stateShape = batchFirst ? new long[] {batch, dirs, h} : new long[] {dirs, batch, h};
        double[] h0 = shaped(c, 5, stateShape, "initial_h");
        double[] c0 = cell == Cell.LSTM ? shaped(c, 6, stateShape, "initial_c") : null;
        double[] p = cell == Cell.LSTM ? shaped(c, 7, new long[] {dirs, 3L * h}, "P") : null;
        if (batchFirst) {
            if (h0 != null) h0 = swap01(h0, batch, dirs, h);
            if (c0 != null) c0 = swap01(c0, batch, dirs, h);
        }
        double[] x = xt.toDoubleArray();
        if (batchFirst) x = swap01(x, batch, seq, in);
        Activation[][] act = activations(c, cell, dirs);
        double clip = c.hasAttr("clip") ? c.attrFloat("clip") : Double.POSITIVE_INFINITY;
        boolean linearBeforeReset = cell == Cell.GRU && c.attrInt("linear_before_reset") != 0;
        boolean inputForget = cell == Cell.LSTM && c.attrInt("input_forget") != 0;

        double[] y = new double[seq * dirs * batch * h], yh = new double[dirs * batch * h], yc = new double[dirs * batch * h];
        double[] gates = new double[g * h], rh = new double[g * h];
        for (int d = 0; d < dirs; d++) {
            boolean reverse = reverseOnly || d == 1;
            int wo = d * g * h * in, ro = d * g * h * h, bo = d * 2 * g * h, po = d * 3 * h;
            for (int bt = 0; bt < batch; bt++) {
                int len = lens == null ? seq : (int) lens.getLong(bt);
                if (len < 0 || len > seq) throw c.error("sequence_lens[" + bt + "] = " + len + " is outside [0, " + seq + "]");
                int so = (d * batch + bt) * h;
                double[] hs = h0 == null ? new double[h] : Arrays.copyOfRange(h0, so, so + h);
                double[] cs = c0 == null ? new double[h] : Arrays.copyOfRange(c0, so, so + h);
                for (int step = 0; step < len; step++) {
                    int t = reverse ? len - 1 - step : step;
                    int xo = (t * batch + bt) * in;
                    // gates = W x_t + Wb, rh = R h_{t-1} + Rb, one row per gate unit.
                    for (int row = 0; row < g * h; row++) {
                        double sx = b == null ? 0 : b[bo + row], sh = b == null ? 0 : b[bo + g * h + row];
                        for (int k = 0; k < in; k++) sx += w[wo + row * in + k] * x[xo + k];
                        for (int k = 0; k < h; k++) sh += r[ro + row * h + k] * hs[k];
                        gates[row] = sx;
                        rh[row] = sh;
                    }
                    double[] next = new double[h];
                    switch (cell) {
                        case RNN -> {
                            for (int j = 0; j < h; j++) next[j] = act[d][0].apply(clip(gates[j] + rh[j], clip));
                        }
                        case GRU -> {
                            double[] rs = new double[h];
                            for (int j = 0; j < h; j++) rs[j] = act[d][0].apply(clip(gates[h + j] + rh[h + j], clip));
                            double[] rHidden = null;
                            if (!linearBeforeReset) {
                                // (r (.) h_{t-1}) Rh + Rbh
                                rHidden = new double[h];
                                for (int j = 0; j < h; j++) {
                                    double s = b == null ? 0 : b[bo + g * h + 2 * h + j];
                                    for (int k = 0; k < h; k++) s += r[ro + (2 * h + j) * h + k] * rs[k] * hs[k];
                                    rHidden[j] = s;
                                }
                            }
                            for (int j = 0; j < h; j++) {
                                double z = act[d][0].apply(clip(gates[j] + rh[j], clip));
                                double pre = gates[2 * h + j] + (linearBeforeReset ? rs[j] * rh[2 * h + j] : rHidden[j]);
                                double cand = act[d][1].apply(clip(pre, clip));
                                next[j] = (1 - z) * cand + z * hs[j];
                            }
                        }
                        case LSTM -> {
                            double[] cn = new double[h];
                            for (int j = 0; j < h; j++) {
                                double pi = p == null ? 0 : p[po + j], pop = p == null ? 0 : p[po + h + j];
                                double pf = p == null ? 0 : p[po + 2 * h + j];
                                double i = act[d][0].apply(clip(gates[j] + rh[j] + pi * cs[j], clip));
                                double f = inputForget ? 1 - i
                                        : act[d][0].apply(clip(gates[2 * h + j] + rh[2 * h + j] + pf * cs[j], clip));
                                double cand = act[d][1].apply(clip(gates[3 * h + j] + rh[3 * h + j], clip));
                                cn[j] = f * cs[j] + i * cand;
                                double o = act[d][0].apply(clip(gates[h + j] + rh[h + j] + pop * cn[j], clip));
                                next[j] = o * act[d][2].apply(cn[j]);
                            }
                            cs = cn;
                        }
                    }
                    hs = next;
                    System.arraycopy(hs, 0, y, ((t * dirs + d) * batch + bt) * h, h);
                }
                System.arraycopy(hs, 0, yh, so, h);
                System.arraycopy(cs, 0, yc, so, h);
            }
        }
        var t = xt.dtype();
        Tensor yT, yhT, ycT;
        if (batchFirst) {
            // [seq, dirs, batch, h] -> [batch, seq, dirs, h]
            double[] yb = new double[y.length];
            for (int s = 0; s < seq; s++)
                for (int d = 0; d < dirs; d++)
                    for (int bt = 0; bt < batch; bt++)
                        System.arraycopy(y, ((s * dirs + d) * batch + bt) * h, yb, ((bt * seq + s) * dirs + d) * h, h);
            yT = NnKernels.fromDoubles(t, new long[] {batch, seq, dirs, h}, yb);
            yhT = NnKernels.fromDoubles(t, stateShape, swap01(yh, dirs, batch, h));
            ycT = NnKernels.fromDoubles(t, stateShape, swap01(yc, dirs, batch, h));
        } else {
            yT = NnKernels.fromDoubles(t, new long[] {seq, dirs, batch, h}, y);
            yhT = NnKernels.fromDoubles(t, stateShape, yh);
            ycT = NnKernels.fromDoubles(t, stateShape, yc);
        }
        return cell == Cell.LSTM ? List.of(yT, yhT, ycT) : List.of(yT, yhT);
    }

    private static double clip(double v, double limit) { return Math.max(-limit, Math.min(limit, v)); }
}
