package dev.gale.train.optim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The optimizers' update loops over the flat parameter, gradient and moment buffers as fused Vector API kernels:
 * one pass per step reads and writes each buffer once. Every lane does PyTorch's float32 arithmetic in PyTorch's
 * order, with no fused multiply-add (Java rounds each operation, and so do these vector operations), and a float
 * square root equals the rounded double one the scalar form takes; so the results are bit for bit those of the
 * scalar loops, which remain for the tail.
 */
final class VectorUpdates {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorUpdates() {}

    /**
     * SGD: {@code d = g + wd p}; with momentum {@code buf = first ? d : mom buf + damp d}, then {@code d = buf} or
     * (Nesterov) {@code d + mom buf}; {@code p -= rate d}. {@code buf} is null without momentum.
     */
    static void sgd(float[] p, float[] g, float[] buf, int from, int to, float wd, float mom, float damp, float rate,
                    boolean first, boolean nesterov) {
        int i = from, bound = from + S.loopBound(to - from);
        for (; i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, g, i), pv = FloatVector.fromArray(S, p, i);
            if (wd != 0) d = d.add(pv.mul(wd));
            if (buf != null) {
                FloatVector b = first ? d : FloatVector.fromArray(S, buf, i).mul(mom).add(d.mul(damp));
                b.intoArray(buf, i);
                d = nesterov ? d.add(b.mul(mom)) : b;
            }
            pv.sub(d.mul(rate)).intoArray(p, i);
        }
        for (; i < to; i++) {
            float d = g[i];
            if (wd != 0) d = d + wd * p[i];
            if (buf != null) {
                buf[i] = first ? d : mom * buf[i] + damp * d;
                d = nesterov ? d + mom * buf[i] : buf[i];
            }
            p[i] = p[i] - rate * d;
        }
    }

    /**
     * Adam / AdamW: {@code p *= decay} (decoupled) or {@code g += wd p}; {@code m = b1 m + c1 g};
     * {@code v = b2 v + c2 g^2}; {@code p -= stepSize m / (sqrt(v) / bc2Sqrt + eps)}.
     */
    static void adam(float[] p, float[] g, float[] m, float[] v, int from, int to, float stepSize, float bc2Sqrt,
                     float b1, float b2, float c1, float c2, float eps, float wd, float decay, boolean decoupled) {
        int i = from, bound = from + S.loopBound(to - from);
        for (; i < bound; i += S.length()) {
            FloatVector gi = FloatVector.fromArray(S, g, i), pv = FloatVector.fromArray(S, p, i);
            if (decoupled) pv = pv.mul(decay);
            else if (wd != 0) gi = gi.add(pv.mul(wd));
            FloatVector mv = FloatVector.fromArray(S, m, i).mul(b1).add(gi.mul(c1));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(b2).add(gi.mul(gi).mul(c2));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
            pv.sub(mv.div(denom).mul(stepSize)).intoArray(p, i);
        }
        for (; i < to; i++) {
            float gi = g[i];
            if (decoupled) p[i] = p[i] * decay;
            else if (wd != 0) gi = gi + wd * p[i];
            m[i] = m[i] * b1 + gi * c1;
            v[i] = v[i] * b2 + gi * gi * c2;
            float denom = (float) Math.sqrt(v[i]) / bc2Sqrt + eps;
            p[i] = p[i] - stepSize * (m[i] / denom);
        }
    }

    /** Adagrad: {@code g += wd p}; {@code sum += g^2}; {@code p -= clr g / (sqrt(sum) + eps)}. */
    static void adagrad(float[] p, float[] g, float[] sum, int from, int to, float clr, float wd, float eps) {
        int i = from, bound = from + S.loopBound(to - from);
        for (; i < bound; i += S.length()) {
            FloatVector gi = FloatVector.fromArray(S, g, i), pv = FloatVector.fromArray(S, p, i);
            if (wd != 0) gi = gi.add(pv.mul(wd));
            FloatVector s = FloatVector.fromArray(S, sum, i).add(gi.mul(gi));
            s.intoArray(sum, i);
            FloatVector std = s.sqrt().add(eps);
            pv.sub(gi.div(std).mul(clr)).intoArray(p, i);
        }
        for (; i < to; i++) {
            float gi = g[i];
            if (wd != 0) gi = gi + wd * p[i];
            sum[i] = sum[i] + gi * gi;
            float std = (float) Math.sqrt(sum[i]) + eps;
            p[i] = p[i] - clr * (gi / std);
        }
    }
}
