package dev.gale.backends.cpu.runtime;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;

import java.lang.foreign.MemorySegment;

/**
 * SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss and their {@code gale} gradients over scores
 * {@code (N, C, d1..dk)} in the arena and integer labels {@code (N, d1..dk)} in a box, with optional class weights,
 * ignore_index and the three reductions. Each target slot's log-softmax runs in float64 (a row of class scores is
 * short) when the classes of a slot are strided ({@code d > 1}); scores {@code (N, C)} run in vectors ({@link SoftmaxRows}:
 * exponentials in float32, sums and logs in float64). Element (b, class, j) is at {@code (b * C + class) * d + j}.
 */
final class LossSteps {
    private LossSteps() {}

    static void registerAll() {
        NativeOps.register("SoftmaxCrossEntropyLoss", LossSteps::loss);
        NativeOps.register(GaleOps.DOMAIN, "SoftmaxCrossEntropyLossGrad", LossSteps::grad);
        NativeOps.register("NegativeLogLikelihoodLoss", LossSteps::nll);
        NativeOps.register(GaleOps.DOMAIN, "NegativeLogLikelihoodLossGrad", LossSteps::nllGrad);
    }

    /** Shapes and attributes shared by the loss and its gradient. */
    private record Targets(int n, int classes, int d, int labelBox, long weight, boolean hasIgnore, long ignore,
                           int reduction) {
        static final int NONE = 0, SUM = 1, MEAN = 2;

        static Targets of(EmitContext c, Slot scores, Slot labels, Slot weight) {
            if (scores == null || !scores.inArena() || scores.rank() < 2 || labels == null || labels.inArena()
                    || labels.shape == null || labels.dtype != DType.INT64 && labels.dtype != DType.INT32) return null;
            if (weight != null && (!weight.inArena() || weight.numel != scores.dim(1))) return null;
            if (labels.rank() != scores.rank() - 1 || labels.dim(0) != scores.dim(0)) return null;
            for (int k = 1; k < labels.rank(); k++) if (labels.dim(k) != scores.dim(k + 1)) return null;
            int reduction = switch (c.attrString("reduction")) {
                case "none" -> NONE;
                case "sum" -> SUM;
                case "mean" -> MEAN;
                default -> -1;
            };
            if (reduction < 0 || scores.numel > Integer.MAX_VALUE) return null;
            int n = (int) scores.dim(0), classes = (int) scores.dim(1);
            int d = n == 0 ? 1 : (int) (labels.numel / n);
            boolean hasIgnore = c.hasAttr("ignore_index");
            return new Targets(n, classes, d, labels.box, weight == null ? -1 : weight.offset, hasIgnore,
                    hasIgnore ? c.attrInt("ignore_index") : 0, reduction);
        }

        int slots() { return n * d; }

        long at(int slot, int k) { return ((long) (slot / d) * classes + k) * d + slot % d; }

        /** The class of a slot, or -1 when ignored; an error for a label out of range. */
        int classOf(Tensor labels, int slot, EmitContext.Where where) {
            long t = labels.getLong(slot);
            if (hasIgnore && t == ignore) return -1;
            if (t < 0 || t >= classes) throw where.error("target value " + t + " is out of range [0, " + classes + ")");
            return (int) t;
        }

        double weightOf(MemorySegment m, int cls) { return weight < 0 ? 1 : Vec.get(m, weight + cls); }

        /** The sum of the weights of the non-ignored slots (the divisor of "mean"); 0 for other reductions. */
        double meanWeights(MemorySegment m, Tensor labels, EmitContext.Where where) {
            double weights = 0;
            if (reduction == MEAN)
                for (int s = 0; s < slots(); s++) {
                    int t = classOf(labels, s, where);
                    if (t >= 0) weights += weightOf(m, t);
                }
            return weights;
        }

        /** d loss / d (slot s's loss term): the incoming gradient, weighted and divided as the reduction did. */
        double gradCoef(MemorySegment m, long dloss, int s, int t, double weights) {
            double g = reduction == NONE ? Vec.get(m, dloss + s) : Vec.get(m, dloss);
            return weightOf(m, t) * (reduction == MEAN ? g / weights : g);
        }

        /** Writes a reduced loss (sum or weighted mean); "none" wrote per slot already. */
        void storeReduced(MemorySegment m, long out, double total, double weights) {
            if (reduction == SUM) Vec.set(m, out, (float) total);
            if (reduction == MEAN) Vec.set(m, out, (float) (total / weights));
        }

        /** max + log(sum(exp(x - max))) over the classes of a slot: log-softmax is x minus this. */
        double logSumExp(MemorySegment m, long scores, int slot) {
            if (d == 1) return SoftmaxRows.logSumExp(m, scores + (long) slot * classes, classes);
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) max = Math.max(max, Vec.get(m, scores + at(slot, k)));
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.exp(Vec.get(m, scores + at(slot, k)) - max);
            return max + Math.log(sum);
        }
    }

    private static Step loss(EmitContext c) {
        Targets ts = Targets.of(c, c.in(0), c.in(1), c.in(2));
        Slot out = c.out(0), logProb = c.out(1);
        if (ts == null || out == null || !out.inArena() || logProb != null && !logProb.inArena()) return null;
        if (ts.reduction() == Targets.NONE ? out.numel != ts.slots() : out.numel != 1) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        long so = c.in(0).offset, oo = out.offset, lo = logProb == null ? -1 : logProb.offset;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor labels = (Tensor) boxes[ts.labelBox()];
            double total = 0, weights = 0;
            for (int s = 0; s < ts.slots(); s++) {
                double lse = ts.logSumExp(m, so, s);
                if (lo >= 0 && ts.d() == 1)
                    SoftmaxRows.subtract(m, so + (long) s * ts.classes(), lo + (long) s * ts.classes(), ts.classes(), (float) lse, 0f);
                else if (lo >= 0)
                    for (int k = 0; k < ts.classes(); k++)
                        Vec.set(m, lo + ts.at(s, k), (float) (Vec.get(m, so + ts.at(s, k)) - lse));
                int t = ts.classOf(labels, s, where);
                double l = 0;
                if (t >= 0) {
                    double w = ts.weightOf(m, t);
                    l = -w * (Vec.get(m, so + ts.at(s, t)) - lse);
                    weights += w;
                    total += l;
                }
                if (ts.reduction() == Targets.NONE) Vec.set(m, oo + s, (float) l);
            }
            ts.storeReduced(m, oo, total, weights);
        };
    }

    /** SoftmaxCrossEntropyLossGrad(dloss, scores, labels[, weight]) -> d loss / d scores. */
    private static Step grad(EmitContext c) {
        Targets ts = Targets.of(c, c.in(1), c.in(2), c.in(3));
        Slot dl = c.in(0), dx = c.out(0);
        if (ts == null || dl == null || !dl.inArena() || dx == null || !dx.inArena()) return null;
        if (ts.reduction() == Targets.NONE ? dl.numel != ts.slots() : dl.numel != 1) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        long dlo = dl.offset, so = c.in(1).offset, dxo = dx.offset, total = dx.numel;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor labels = (Tensor) boxes[ts.labelBox()];
            double weights = ts.meanWeights(m, labels, where);
            Vec.fill(m, dxo, total, 0f);
            for (int s = 0; s < ts.slots(); s++) {
                int t = ts.classOf(labels, s, where);
                if (t < 0) continue;
                double coef = ts.gradCoef(m, dlo, s, t, weights);
                double lse = ts.logSumExp(m, so, s);
                if (ts.d() == 1) {
                    long row = (long) s * ts.classes();
                    SoftmaxRows.scaledExp(m, so + row, dxo + row, ts.classes(), (float) lse, (float) coef);
                    double p = Math.exp(Vec.get(m, so + row + t) - lse);
                    Vec.set(m, dxo + row + t, (float) (coef * (p - 1)));
                    continue;
                }
                for (int k = 0; k < ts.classes(); k++) {
                    double p = Math.exp(Vec.get(m, so + ts.at(s, k)) - lse);
                    Vec.set(m, dxo + ts.at(s, k), (float) (coef * (p - (k == t ? 1 : 0))));
                }
            }
        };
    }

    /** NegativeLogLikelihoodLoss(log_probs, labels[, weight]): -w[t] log_probs[t] per slot, reduced. */
    private static Step nll(EmitContext c) {
        Targets ts = Targets.of(c, c.in(0), c.in(1), c.in(2));
        Slot out = c.out(0);
        if (ts == null || out == null || !out.inArena()) return null;
        if (ts.reduction() == Targets.NONE ? out.numel != ts.slots() : out.numel != 1) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        long xo = c.in(0).offset, oo = out.offset;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor labels = (Tensor) boxes[ts.labelBox()];
            double total = 0, weights = 0;
            for (int s = 0; s < ts.slots(); s++) {
                int t = ts.classOf(labels, s, where);
                double l = 0;
                if (t >= 0) {
                    double w = ts.weightOf(m, t);
                    l = -w * Vec.get(m, xo + ts.at(s, t));
                    weights += w;
                    total += l;
                }
                if (ts.reduction() == Targets.NONE) Vec.set(m, oo + s, (float) l);
            }
            ts.storeReduced(m, oo, total, weights);
        };
    }

    /** NegativeLogLikelihoodLossGrad(dloss, log_probs, labels[, weight]): -coef at each slot's class, 0 elsewhere. */
    private static Step nllGrad(EmitContext c) {
        Targets ts = Targets.of(c, c.in(1), c.in(2), c.in(3));
        Slot dl = c.in(0), dx = c.out(0);
        if (ts == null || dl == null || !dl.inArena() || dx == null || !dx.inArena()) return null;
        if (ts.reduction() == Targets.NONE ? dl.numel != ts.slots() : dl.numel != 1) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        long dlo = dl.offset, dxo = dx.offset, total = dx.numel;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor labels = (Tensor) boxes[ts.labelBox()];
            double weights = ts.meanWeights(m, labels, where);
            Vec.fill(m, dxo, total, 0f);
            for (int s = 0; s < ts.slots(); s++) {
                int t = ts.classOf(labels, s, where);
                if (t < 0) continue;
                double coef = ts.gradCoef(m, dlo, s, t, weights);
                Vec.set(m, dxo + ts.at(s, t), (float) -coef);
            }
        };
    }
}
