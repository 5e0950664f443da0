package dev.gale.train.optim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The vectorized update loops give bit for bit what the scalar loops (PyTorch's float32 arithmetic, written out
 * below as the reference) give, over ranges that start and end off the vector length, with and without weight
 * decay, momentum, Nesterov and decoupled decay, across several steps. On native segments the updates run in vectors;
 * on heap segments (which the training state never has) they take the scalar loops, and must give the same bits.
 */
class VectorUpdatesTest {
    private static final int N = 1000, FROM = 3, TO = 997;

    /**
     * Runs {@code update} on segments over {@code arrays} (null stays null): native copies written back afterwards,
     * or heap segments over the arrays themselves.
     */
    private static void withSegments(boolean nativeSegments, float[][] arrays, Consumer<MemorySegment[]> update) {
        MemorySegment[] s = new MemorySegment[arrays.length];
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < arrays.length; i++) {
                if (arrays[i] == null) continue;
                s[i] = nativeSegments ? arena.allocate(4L * arrays[i].length, 64) : MemorySegment.ofArray(arrays[i]);
                if (nativeSegments) MemorySegment.copy(arrays[i], 0, s[i], ValueLayout.JAVA_FLOAT, 0, arrays[i].length);
            }
            update.accept(s);
            if (nativeSegments)
                for (int i = 0; i < arrays.length; i++)
                    if (arrays[i] != null) MemorySegment.copy(s[i], ValueLayout.JAVA_FLOAT, 0, arrays[i], 0, arrays[i].length);
        }
    }

    private static float[] random(Random r, float scale) {
        float[] a = new float[N];
        for (int i = 0; i < N; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    @ParameterizedTest(name = "native segments {0}")
    @ValueSource(booleans = {true, false})
    void sgdMatchesScalar(boolean nativeSegments) {
        for (float wd : new float[] {0f, 0.01f})
            for (float mom : new float[] {0f, 0.9f})
                for (boolean nesterov : new boolean[] {false, true}) {
                    if (nesterov && mom == 0) continue;
                    Random r = new Random(7);
                    float[] p = random(r, 1), p2 = p.clone();
                    float[] buf = mom != 0 ? new float[N] : null, buf2 = mom != 0 ? new float[N] : null;
                    for (int step = 1; step <= 3; step++) {
                        float[] g = random(r, 0.1f);
                        boolean first = step == 1;
                        withSegments(nativeSegments, new float[][] {p, g, buf}, x -> VectorUpdates.sgd(x[0], x[1], x[2],
                                FROM, TO, wd, mom, 1f, 0.01f, first, nesterov));
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

    @ParameterizedTest(name = "native segments {0}")
    @ValueSource(booleans = {true, false})
    void adamMatchesScalar(boolean nativeSegments) {
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
                    withSegments(nativeSegments, new float[][] {p, g, m, v}, x -> VectorUpdates.adam(x[0], x[1], x[2],
                            x[3], FROM, TO, stepSize, bc2Sqrt, 0.9f, 0.999f, 0.1f, 0.001f, e, wd, decay, decoupled));
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

    @ParameterizedTest(name = "native segments {0}")
    @ValueSource(booleans = {true, false})
    void adagradMatchesScalar(boolean nativeSegments) {
        for (float wd : new float[] {0f, 0.01f}) {
            Random r = new Random(13);
            float[] p = random(r, 1), p2 = p.clone(), sum = new float[N], sum2 = new float[N];
            for (int step = 1; step <= 3; step++) {
                float[] g = random(r, 0.1f);
                withSegments(nativeSegments, new float[][] {p, g, sum}, x -> VectorUpdates.adagrad(x[0], x[1], x[2], FROM,
                        TO, 0.01f, wd, 1e-10f));
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
