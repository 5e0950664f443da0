package dev.gale.train.optim;

import dev.gale.backends.NativeSegments;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The optimizers' update loops over the flat parameter, gradient and moment buffers as fused Vector API kernels:
 * one pass per step reads and writes each buffer once. Every lane does PyTorch's float32 arithmetic in PyTorch's
 * order, with no fused multiply-add (Java rounds each operation, and so do these vector operations), and a float
 * square root equals the rounded double one the scalar form takes; so the results are bit for bit those of the
 * scalar loops, which remain for the tail. Indices are float elements of the segments.
 *
 * <p>The vector loops run on native segments only (the training state's buffers and the plan's regions all are),
 * and every access casts its segment to the class of native segments first ({@link NativeSegments}, which says why:
 * without the cast, a 25M-parameter Adam step ran 1.7x slower once any code in the process had used heap segments,
 * and 23 ms instead of 9-11 on two threads inside a training run of the 1024-4096-4096-1024 MLP). Other segments
 * (heap arrays, in tests) take the scalar loops.
 *
 * <p>The loops call the Vector API directly, with no helper method of ours between: a helper that takes or returns
 * a vector is a call C2 may decline to inline (its inlining budget for the caller spent, or the helper compiled on
 * its own first), and then every vector that crosses it is boxed on the heap. That happened here to a one-line
 * {@code load} helper in some processes and not others, by the order in which the JIT met the methods.
 */
final class VectorUpdates {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder O = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private VectorUpdates() {}

    private static final Class<? extends MemorySegment> NATIVE = NativeSegments.CLASS;

    /** Where the vector loop over {@code [from, to)} ends: its bound when every segment is native, else {@code from}. */
    private static int vectorEnd(int from, int to, MemorySegment a, MemorySegment b, MemorySegment c, MemorySegment d) {
        boolean nat = NativeSegments.isNative(a) && NativeSegments.isNative(b)
                && (c == null || NativeSegments.isNative(c)) && (d == null || NativeSegments.isNative(d));
        return nat ? from + S.loopBound(to - from) : from;
    }

    /**
     * SGD: {@code d = g + wd p}; with momentum {@code buf = first ? d : mom buf + damp d}, then {@code d = buf} or
     * (Nesterov) {@code d + mom buf}; {@code p -= rate d}. {@code buf} is null without momentum.
     */
    static void sgd(MemorySegment p, MemorySegment g, MemorySegment buf, int from, int to, float wd, float mom,
                    float damp, float rate, boolean first, boolean nesterov) {
        int i = from, bound = vectorEnd(from, to, p, g, buf, null);
        for (; i < bound; i += S.length()) {
            long at = (long) i << 2;
            FloatVector d = FloatVector.fromMemorySegment(S, NATIVE.cast(g), at, O);
            FloatVector pv = FloatVector.fromMemorySegment(S, NATIVE.cast(p), at, O);
            if (wd != 0) d = d.add(pv.mul(wd));
            if (buf != null) {
                FloatVector b = first ? d : FloatVector.fromMemorySegment(S, NATIVE.cast(buf), at, O).mul(mom).add(d.mul(damp));
                b.intoMemorySegment(NATIVE.cast(buf), at, O);
                d = nesterov ? d.add(b.mul(mom)) : b;
            }
            pv.sub(d.mul(rate)).intoMemorySegment(NATIVE.cast(p), at, O);
        }
        for (; i < to; i++) {
            float pi = p.getAtIndex(F, i), d = g.getAtIndex(F, i);
            if (wd != 0) d = d + wd * pi;
            if (buf != null) {
                float b = first ? d : mom * buf.getAtIndex(F, i) + damp * d;
                buf.setAtIndex(F, i, b);
                d = nesterov ? d + mom * b : b;
            }
            p.setAtIndex(F, i, pi - rate * d);
        }
    }

    /**
     * Adam / AdamW: {@code p *= decay} (decoupled) or {@code g += wd p}; {@code m = b1 m + c1 g};
     * {@code v = b2 v + c2 g^2}; {@code p -= stepSize m / (sqrt(v) / bc2Sqrt + eps)}.
     */
    static void adam(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, int from, int to,
                     float stepSize, float bc2Sqrt, float b1, float b2, float c1, float c2, float eps, float wd,
                     float decay, boolean decoupled) {
        int i = from, bound = vectorEnd(from, to, p, g, m, v);
        for (; i < bound; i += S.length()) {
            long at = (long) i << 2;
            FloatVector gi = FloatVector.fromMemorySegment(S, NATIVE.cast(g), at, O);
            FloatVector pv = FloatVector.fromMemorySegment(S, NATIVE.cast(p), at, O);
            if (decoupled) pv = pv.mul(decay);
            else if (wd != 0) gi = gi.add(pv.mul(wd));
            FloatVector mv = FloatVector.fromMemorySegment(S, NATIVE.cast(m), at, O).mul(b1).add(gi.mul(c1));
            FloatVector vv = FloatVector.fromMemorySegment(S, NATIVE.cast(v), at, O).mul(b2).add(gi.mul(gi).mul(c2));
            mv.intoMemorySegment(NATIVE.cast(m), at, O);
            vv.intoMemorySegment(NATIVE.cast(v), at, O);
            FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
            pv.sub(mv.div(denom).mul(stepSize)).intoMemorySegment(NATIVE.cast(p), at, O);
        }
        for (; i < to; i++) {
            float gi = g.getAtIndex(F, i), pi = p.getAtIndex(F, i);
            if (decoupled) pi = pi * decay;
            else if (wd != 0) gi = gi + wd * pi;
            float mi = m.getAtIndex(F, i) * b1 + gi * c1;
            float vi = v.getAtIndex(F, i) * b2 + gi * gi * c2;
            m.setAtIndex(F, i, mi);
            v.setAtIndex(F, i, vi);
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            p.setAtIndex(F, i, pi - stepSize * (mi / denom));
        }
    }

    /** Adagrad: {@code g += wd p}; {@code sum += g^2}; {@code p -= clr g / (sqrt(sum) + eps)}. */
    static void adagrad(MemorySegment p, MemorySegment g, MemorySegment sum, int from, int to, float clr, float wd,
                        float eps) {
        int i = from, bound = vectorEnd(from, to, p, g, sum, null);
        for (; i < bound; i += S.length()) {
            long at = (long) i << 2;
            FloatVector gi = FloatVector.fromMemorySegment(S, NATIVE.cast(g), at, O);
            FloatVector pv = FloatVector.fromMemorySegment(S, NATIVE.cast(p), at, O);
            if (wd != 0) gi = gi.add(pv.mul(wd));
            FloatVector s = FloatVector.fromMemorySegment(S, NATIVE.cast(sum), at, O).add(gi.mul(gi));
            s.intoMemorySegment(NATIVE.cast(sum), at, O);
            FloatVector std = s.sqrt().add(eps);
            pv.sub(gi.div(std).mul(clr)).intoMemorySegment(NATIVE.cast(p), at, O);
        }
        for (; i < to; i++) {
            float gi = g.getAtIndex(F, i), pi = p.getAtIndex(F, i);
            if (wd != 0) gi = gi + wd * pi;
            float s = sum.getAtIndex(F, i) + gi * gi;
            sum.setAtIndex(F, i, s);
            float std = (float) Math.sqrt(s) + eps;
            p.setAtIndex(F, i, pi - clr * (gi / std));
        }
    }
}
