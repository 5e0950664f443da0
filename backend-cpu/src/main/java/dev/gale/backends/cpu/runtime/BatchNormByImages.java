package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;

import java.lang.foreign.MemorySegment;

/**
 * BatchNormalization and its gradient over {@code [N, C, spatial...]} split across the pool by images, as the
 * convolutions and elementwise kernels around them are, rather than by channels: each participant then reads the
 * planes the previous kernel wrote on its own core and writes the planes the next one reads there. Split by channels,
 * every plane crossed to the other core and back; when the two vCPUs sat on different dies of the host, that made the
 * small CNN's step on two threads slower than on one (2.1 ms against 1.85).
 *
 * <p>Three phases: statistics of each (image, channel) plane by images (its sum, and the sum of squared differences
 * around its own mean: the plane is still in cache for the second pass), the channels' statistics combined from
 * those on the calling thread in image order (so the result does not depend on the thread count), then the
 * elementwise pass by images. The combination is the exact parallel-variance formula
 * {@code M2 = sum_b (M2_b + plane (mean_b - mean)^2)}, in double.
 */
final class BatchNormByImages {
    private BatchNormByImages() {}

    /** Whether a batch of {@code n} images splits evenly enough across the pool to cut by images. */
    static boolean suits(KernelPool pool, long n, long ch) {
        int t = pool.threads();
        return t > 1 && n >= t && (n % t == 0 || n >= 4L * t) && 4 * n * ch <= Integer.MAX_VALUE;
    }

    /**
     * Y = scale (X - mean) / sqrt(var + eps) + bias: batch statistics (and running statistics updated, where
     * {@code rmo} and {@code rvo} are not -1) when {@code training}, else the running ones.
     */
    static Step forward(KernelPool pool, MemorySegment m, long n, long ch, long plane, boolean training, float eps,
                        float momentum, long xo, long yo, long so, long bo, long mo, long vo, long rmo, long rvo) {
        int images = (int) n, channels = (int) ch;
        float[] stats = new float[training ? 2 * images * channels : 0];
        float[] a = new float[channels], sh = new float[channels];
        double count = (double) n * plane;
        KernelPool.Task planeStats = (b, scratch) -> {
            for (int k = 0; k < channels; k++) {
                long at = xo + ((long) b * ch + k) * plane;
                float s = Vec.sum(m, at, plane);
                int i = 2 * (b * channels + k);
                stats[i] = s;
                stats[i + 1] = NormSteps.sumSquaredDiffLoop(m, at, plane, (float) (s / (double) plane));
            }
        };
        KernelPool.Task normalize = (b, scratch) -> {
            for (int k = 0; k < channels; k++) {
                long at = ((long) b * ch + k) * plane;
                NormSteps.affine(m, xo + at, yo + at, plane, a[k], sh[k]);
            }
        };
        return () -> {
            if (training) pool.parallelFor(images, planeStats);
            for (int k = 0; k < channels; k++) {
                double mean = Vec.get(m, mo + k), var = Vec.get(m, vo + k);
                if (training) {
                    double bm = sum(stats, 2, images, channels, k, 0) / count;
                    double bv = m2(stats, 2, images, channels, k, plane, bm) / count;
                    if (rmo >= 0) Vec.set(m, rmo + k, (float) (mean * momentum + bm * (1 - momentum)));
                    if (rvo >= 0) Vec.set(m, rvo + k, (float) (var * momentum + bv * (1 - momentum)));
                    mean = bm;
                    var = bv;
                }
                double inv = 1 / Math.sqrt(var + eps), sc = Vec.get(m, so + k);
                a[k] = (float) (inv * sc);
                sh[k] = (float) (Vec.get(m, bo + k) - mean * inv * sc);
            }
            pool.parallelFor(images, normalize);
        };
    }

    /**
     * BatchNormGrad(dY, X, scale, mean, var) -> (dX, dScale, dB) ({@code dso} and {@code dbo} -1 where not wanted),
     * batch statistics when {@code training}, else the running ones.
     */
    static Step backward(KernelPool pool, MemorySegment m, long n, long ch, long plane, boolean training, float eps,
                         long gyo, long xo, long so, long mo, long vo, long dxo, long dso, long dbo) {
        int images = (int) n, channels = (int) ch;
        // per plane: sum x, M2 around the plane's mean, sum g, sum g (x - centre); centre = the plane's mean when
        // training, the running mean otherwise
        float[] stats = new float[4 * images * channels];
        float[] a = new float[channels], bx = new float[channels], c0 = new float[channels];
        double count = (double) n * plane;
        KernelPool.Task planeStats = (b, scratch) -> {
            for (int k = 0; k < channels; k++) {
                long at = ((long) b * ch + k) * plane;
                int i = 4 * (b * channels + k);
                float centre;
                if (training) {
                    float s = Vec.sum(m, xo + at, plane);
                    centre = (float) (s / (double) plane);
                    stats[i] = s;
                    stats[i + 1] = NormSteps.sumSquaredDiffLoop(m, xo + at, plane, centre);
                } else {
                    centre = Vec.get(m, mo + k);
                }
                stats[i + 2] = Vec.sum(m, gyo + at, plane);
                stats[i + 3] = NormSteps.dotCenteredLoop(m, gyo + at, xo + at, plane, centre);
            }
        };
        KernelPool.Task gradient = (b, scratch) -> {
            for (int k = 0; k < channels; k++) {
                long at = ((long) b * ch + k) * plane;
                NormSteps.affine2Loop(m, gyo + at, xo + at, dxo + at, plane, a[k], bx[k], c0[k]);
            }
        };
        return () -> {
            pool.parallelFor(images, planeStats);
            for (int k = 0; k < channels; k++) {
                double mean, var, sumG = sum(stats, 4, images, channels, k, 2), sumGx = 0;
                if (training) {
                    mean = sum(stats, 4, images, channels, k, 0) / count;
                    var = m2(stats, 4, images, channels, k, plane, mean) / count;
                    // sum g (x - mean) = sum over planes of [sum g (x - mean_b)] + (mean_b - mean) sum g
                    for (int b = 0; b < images; b++) {
                        int i = 4 * (b * channels + k);
                        sumGx += stats[i + 3] + (stats[i] / (double) plane - mean) * stats[i + 2];
                    }
                } else {
                    mean = Vec.get(m, mo + k);
                    var = Vec.get(m, vo + k);
                    for (int b = 0; b < images; b++) sumGx += stats[4 * (b * channels + k) + 3];
                }
                double inv = 1 / Math.sqrt(var + eps), sc = Vec.get(m, so + k);
                double sumH = sc * sumG, sumHx = sc * inv * sumGx;
                // training: dX = inv (sc g - sumH / count - xhat sumHx / count), xhat = (x - mean) inv
                double bxk = training ? -inv * inv * sumHx / count : 0;
                a[k] = (float) (inv * sc);
                bx[k] = (float) bxk;
                c0[k] = (float) (training ? -inv * sumH / count - bxk * mean : 0);
                if (dso >= 0) Vec.set(m, dso + k, (float) (sumGx * inv));
                if (dbo >= 0) Vec.set(m, dbo + k, (float) sumG);
            }
            pool.parallelFor(images, gradient);
        };
    }

    /** sum over images of {@code stats[stride (b C + k) + field]}, in double. */
    private static double sum(float[] stats, int stride, int images, int channels, int k, int field) {
        double s = 0;
        for (int b = 0; b < images; b++) s += stats[stride * (b * channels + k) + field];
        return s;
    }

    /** The channel's M2 from its planes' sums (field 0) and M2s (field 1). */
    private static double m2(float[] stats, int stride, int images, int channels, int k, long plane, double mean) {
        double v = 0;
        for (int b = 0; b < images; b++) {
            int i = stride * (b * channels + k);
            double d = stats[i] / (double) plane - mean;
            v += stats[i + 1] + plane * d * d;
        }
        return v;
    }
}
