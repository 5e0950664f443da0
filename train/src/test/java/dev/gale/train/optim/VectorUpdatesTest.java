package dev.gale.train.optim;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The vectorized update loops give bit for bit what the scalar loops (PyTorch's float32 arithmetic, written out
 * below as the reference) give, over ranges that start and end off the vector length, with and without weight
 * decay, momentum, Nesterov and decoupled decay, across several steps.
 */
class VectorUpdatesTest {
    private static final int N = 1000, FROM = 3, TO = 997;

    /** The array as a heap segment the updates write through. */
    private static java.lang.foreign.MemorySegment seg(float[] a) {
        return a == null ? null : java.lang.foreign.MemorySegment.ofArray(a);
    }

    private static float[] random(Random r, float scale) {
        float[] a = new float[N];
        for (int i = 0; i < N; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    @Test
    void sgdMatchesScalar() {
        for (float wd : new float[] {0f, 0.01f})
            for (float mom : new float[] {0f, 0.9f})
                for (boolean nesterov : new boolean[] {false, true}) {
                    if (nesterov && mom == 0) continue;
                    Random r = new Random(7);
                    float[] p = random(r, 1), p2 = p.clone();
                    float[] buf = mom != 0 ? new float[N] : null, buf2 = mom != 0 ? new float[N] : null;
                    for (int step = 1; step <= 3; step++) {
                        float[] g = random(r, 0.1f);
                        VectorUpdates.sgd(seg(p), seg(g), seg(buf), FROM, TO, wd, mom, 1f, 0.01f, step == 1, nesterov);
                        for (int i = FROM; i < TO; i++) {
                            float d = g[i];
                            if (wd != 0) d = d + wd * p2[i];
                            if (buf2 != null) {
                                buf2[i] = step == 1 ? d : mom * buf2[i] + 1f * d;
                                d = nesterov ? d + mom * buf2[i] : buf2[i];
                            }
                            p2[i] = p2[i] - 0.01f * d;
                        }
                    }
                    assertArrayEquals(p2, p, "sgd wd " + wd + " momentum " + mom + " nesterov " + nesterov);
                    if (buf != null) assertArrayEquals(buf2, buf);
                }
    }

    @Test
    void adamMatchesScalar() {
        for (boolean decoupled : new boolean[] {false, true})
            for (float wd : new float[] {0f, 0.01f}) {
                Random r = new Random(11);
                float[] p = random(r, 1), p2 = p.clone(), m = new float[N], m2 = new float[N], v = new float[N],
                        v2 = new float[N];
                for (int step = 1; step <= 4; step++) {
                    float[] g = random(r, step == 2 ? 1e-6f : 0.1f);
                    double bc1 = 1 - Math.pow(0.9, step), bc2 = 1 - Math.pow(0.999, step), lr = 1e-3;
                    float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2), e = 1e-8f;
                    float decay = (float) (1 - lr * wd);
                    VectorUpdates.adam(seg(p), seg(g), seg(m), seg(v), FROM, TO, stepSize, bc2Sqrt, 0.9f, 0.999f, 0.1f, 0.001f, e, wd, decay,
                            decoupled);
                    for (int i = FROM; i < TO; i++) {
                        float gi = g[i];
                        if (decoupled) p2[i] = p2[i] * decay;
                        else if (wd != 0) gi = gi + wd * p2[i];
                        m2[i] = m2[i] * 0.9f + gi * 0.1f;
                        v2[i] = v2[i] * 0.999f + gi * gi * 0.001f;
                        float denom = (float) Math.sqrt(v2[i]) / bc2Sqrt + e;
                        p2[i] = p2[i] - stepSize * (m2[i] / denom);
                    }
                }
                assertArrayEquals(p2, p, "adam decoupled " + decoupled + " wd " + wd);
                assertArrayEquals(m2, m);
                assertArrayEquals(v2, v);
            }
    }

    @Test
    void adagradMatchesScalar() {
        for (float wd : new float[] {0f, 0.01f}) {
            Random r = new Random(13);
            float[] p = random(r, 1), p2 = p.clone(), sum = new float[N], sum2 = new float[N];
            for (int step = 1; step <= 3; step++) {
                float[] g = random(r, 0.1f);
                VectorUpdates.adagrad(seg(p), seg(g), seg(sum), FROM, TO, 0.01f, wd, 1e-10f);
                for (int i = FROM; i < TO; i++) {
                    float gi = g[i];
                    if (wd != 0) gi = gi + wd * p2[i];
                    sum2[i] = sum2[i] + gi * gi;
                    float std = (float) Math.sqrt(sum2[i]) + 1e-10f;
                    p2[i] = p2[i] - 0.01f * (gi / std);
                }
            }
            assertArrayEquals(p2, p, "adagrad wd " + wd);
            assertArrayEquals(sum2, sum);
        }
    }
}
