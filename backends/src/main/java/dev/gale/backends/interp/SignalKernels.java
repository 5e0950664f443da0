package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.util.Arrays;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: DFT, STFT, window generators and the mel filter bank (opset 17). The transforms are the
 * direct O(n^2) sums in float64 with each twiddle factor's angle reduced exactly ({@code j*k mod n}) before the
 * sine and cosine, which keeps long transforms accurate. Complex values are a trailing dimension of 2.
 */
final class SignalKernels {
    private SignalKernels() {}

    static void registerAll() {
        register("DFT", Kernel.single(SignalKernels::dft));
        register("STFT", Kernel.single(SignalKernels::stft));
        // Generalized cosine windows: w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N).
        register("HannWindow", Kernel.single(c -> window(c, 0.5, 0.5, 0)));
        register("HammingWindow", Kernel.single(c -> window(c, 25.0 / 46, 21.0 / 46, 0)));
        register("BlackmanWindow", Kernel.single(c -> window(c, 0.42, 0.5, 0.08)));
        register("MelWeightMatrix", Kernel.single(SignalKernels::melWeightMatrix));
    }

    /**
     * One complex DFT of length {@code n} whose first {@code re.length} samples are {@code re/im} and the rest zero
     * padding, returning the first {@code outLen} bins; the inverse transform uses the opposite sign and scales by
     * {@code 1/n}.
     */
    static void transform(double[] re, double[] im, int n, boolean inverse, int outLen, double[] outRe, double[] outIm) {
        double sign = inverse ? 1 : -1;
        for (int k = 0; k < outLen; k++) {
            double sr = 0, si = 0;
            for (int j = 0; j < re.length; j++) {
                double angle = sign * 2 * Math.PI * (((long) j * k) % n) / n;
                double cos = Math.cos(angle), sin = Math.sin(angle);
                sr += re[j] * cos - im[j] * sin;
                si += re[j] * sin + im[j] * cos;
            }
            outRe[k] = inverse ? sr / n : sr;
            outIm[k] = inverse ? si / n : si;
        }
    }

    private static long scalarLong(KernelCall c, int i, String name) {
        Tensor t = c.required(i);
        if (t.numel() != 1) throw c.error(name + " must be a scalar, got shape " + Arrays.toString(t.shape()));
        if (t.dtype().isFloat()) throw c.error(name + " must be an integer, got " + t.dtype());
        return t.getLong(0);
    }

    private static Tensor dft(KernelCall c) {
        Tensor x = c.required(0);
        int rank = x.rank();
        if (!x.dtype().isFloat()) throw c.error("input must be floating point, got " + x.dtype());
        if (rank < 3 || x.dim(rank - 1) != 1 && x.dim(rank - 1) != 2)
            throw c.error("input must have shape [batch, signal..., 1 or 2], got " + Arrays.toString(x.shape()));
        long axisAttr = c.attrInt("axis");
        long a = axisAttr < 0 ? axisAttr + rank : axisAttr;
        if (a < 1 || a > rank - 2)
            throw c.error("axis " + axisAttr + " must name a signal dimension (1.." + (rank - 2) + ")");
        int axis = (int) a;
        int len = (int) x.dim(axis);
        long nl = c.has(1) ? scalarLong(c, 1, "dft_length") : len;
        if (nl < 1 || nl > Integer.MAX_VALUE / 2) throw c.error("dft_length must be positive, got " + nl);
        int n = (int) nl;
        int outLen = c.attrInt("onesided") != 0 ? n / 2 + 1 : n;
        boolean inverse = c.attrInt("inverse") != 0;
        int comps = (int) x.dim(rank - 1);
        long[] shape = x.shape();
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < rank - 1; d++) inner *= shape[d];
        long[] outShape = shape.clone();
        outShape[axis] = outLen;
        outShape[rank - 1] = 2;
        Tensor y = Tensor.zeros(x.dtype(), outShape);
        int used = Math.min(n, len); // samples past dft_length are dropped, missing ones are zeros
        double[] re = new double[used], im = new double[used], outRe = new double[outLen], outIm = new double[outLen];
        for (long o = 0; o < outer; o++) {
            for (long in = 0; in < inner; in++) {
                for (int j = 0; j < used; j++) {
                    long base = ((o * len + j) * inner + in) * comps;
                    re[j] = x.getDouble((int) base);
                    im[j] = comps == 2 ? x.getDouble((int) base + 1) : 0;
                }
                transform(re, im, n, inverse, outLen, outRe, outIm);
                for (int k = 0; k < outLen; k++) {
                    long base = ((o * outLen + k) * inner + in) * 2;
                    y.setDouble((int) base, outRe[k]);
                    y.setDouble((int) base + 1, outIm[k]);
                }
            }
        }
        return y;
    }

    /** Frames of {@code frame_length} samples every {@code frame_step}, each windowed and transformed. */
    private static Tensor stft(KernelCall c) {
        Tensor x = c.required(0), window = c.in(2);
        if (!x.dtype().isFloat()) throw c.error("signal must be floating point, got " + x.dtype());
        if (x.rank() != 3 || x.dim(2) != 1 && x.dim(2) != 2)
            throw c.error("signal must have shape [batch, length, 1 or 2], got " + Arrays.toString(x.shape()));
        long step = scalarLong(c, 1, "frame_step");
        if (step < 1) throw c.error("frame_step must be positive, got " + step);
        if (window != null && window.rank() != 1)
            throw c.error("window must be 1-D, got shape " + Arrays.toString(window.shape()));
        long fl;
        if (c.has(3)) {
            fl = scalarLong(c, 3, "frame_length");
            if (window != null && window.dim(0) != fl)
                throw c.error("window has " + window.dim(0) + " samples but frame_length is " + fl);
        } else if (window != null) {
            fl = window.dim(0);
        } else {
            throw c.error("needs a window or a frame_length input to know the frame size");
        }
        long len = x.dim(1);
        if (fl < 1 || fl > len) throw c.error("frame length " + fl + " must be in 1.." + len + " (the signal length)");
        int n = (int) fl, frames = (int) ((len - fl) / step + 1), comps = (int) x.dim(2);
        int bins = c.attrInt("onesided") != 0 ? n / 2 + 1 : n;
        long batch = x.dim(0);
        Tensor y = Tensor.zeros(x.dtype(), batch, frames, bins, 2);
        double[] re = new double[n], im = new double[n], outRe = new double[bins], outIm = new double[bins];
        for (long b = 0; b < batch; b++) {
            for (int f = 0; f < frames; f++) {
                for (int j = 0; j < n; j++) {
                    double w = window == null ? 1 : window.getDouble(j);
                    long base = (b * len + f * step + j) * comps;
                    re[j] = w * x.getDouble((int) base);
                    im[j] = comps == 2 ? w * x.getDouble((int) base + 1) : 0;
                }
                transform(re, im, n, false, bins, outRe, outIm);
                for (int k = 0; k < bins; k++) {
                    long base = ((b * frames + f) * bins + k) * 2;
                    y.setDouble((int) base, outRe[k]);
                    y.setDouble((int) base + 1, outIm[k]);
                }
            }
        }
        return y;
    }

    private static DType outputType(KernelCall c) {
        long code = c.attrInt("output_datatype");
        try {
            DType t = DType.fromOnnx((int) code);
            if (t.isNumeric()) return t;
        } catch (GaleException e) {
            // reported below
        }
        throw c.error("output_datatype " + code + " is not a numeric ONNX element type");
    }

    /**
     * A periodic window of size N is the first N points of the symmetric window of size N + 1, so both use
     * {@code cos(2 pi n / N)} with N = size (periodic) or size - 1 (symmetric).
     */
    private static Tensor window(KernelCall c, double a0, double a1, double a2) {
        long size = scalarLong(c, 0, "size");
        if (size < 0) throw c.error("size must be >= 0, got " + size);
        long period = c.attrInt("periodic") != 0 ? size : Math.max(1, size - 1);
        Tensor y = Tensor.zeros(outputType(c), size);
        for (int i = 0; i < size; i++) {
            double t = 2 * Math.PI * i / period;
            y.setDouble(i, a0 - a1 * Math.cos(t) + a2 * Math.cos(2 * t));
        }
        return y;
    }

    /**
     * Triangular filters with peak 1 whose edges are {@code num_mel_bins + 2} points evenly spaced on the mel scale
     * {@code mel(f) = 2595 log10(1 + f / 700)} between the two edge frequencies, each mapped to the spectrogram bin
     * {@code floor((dft_length + 1) * f / sample_rate)}; output [dft_length / 2 + 1, num_mel_bins].
     */
    private static Tensor melWeightMatrix(KernelCall c) {
        long melBins = scalarLong(c, 0, "num_mel_bins"), dftLength = scalarLong(c, 1, "dft_length");
        long sampleRate = scalarLong(c, 2, "sample_rate");
        double lower = scalarDouble(c, 3, "lower_edge_hertz"), upper = scalarDouble(c, 4, "upper_edge_hertz");
        if (melBins < 1 || dftLength < 1 || sampleRate < 1)
            throw c.error("num_mel_bins, dft_length and sample_rate must be positive");
        if (lower < 0 || upper < lower) throw c.error("need 0 <= lower_edge_hertz <= upper_edge_hertz");
        int spectrogramBins = (int) (dftLength / 2 + 1), m = (int) melBins;
        double lowMel = 2595 * Math.log10(1 + lower / 700), highMel = 2595 * Math.log10(1 + upper / 700);
        double melStep = (highMel - lowMel) / (m + 2);
        long[] edge = new long[m + 2];
        for (int i = 0; i < m + 2; i++) {
            double hz = 700 * (Math.pow(10, (i * melStep + lowMel) / 2595) - 1);
            edge[i] = (long) Math.floor((dftLength + 1) * hz / sampleRate);
        }
        double[] w = new double[spectrogramBins * m];
        for (int i = 0; i < m; i++) {
            long left = edge[i], center = edge[i + 1], right = edge[i + 2];
            if (center == left) {
                set(w, center, i, m, 1);
            } else {
                for (long j = Math.max(left, 0); j <= Math.min(center, spectrogramBins - 1); j++)
                    set(w, j, i, m, (double) (j - left) / (center - left));
            }
            for (long j = Math.max(center, 0); j < Math.min(right, spectrogramBins); j++)
                set(w, j, i, m, (double) (right - j) / (right - center));
        }
        Tensor y = Tensor.zeros(outputType(c), spectrogramBins, m);
        for (int i = 0; i < w.length; i++) y.setDouble(i, w[i]);
        return y;
    }

    /** Filter points outside the spectrogram (an upper edge above the Nyquist frequency) are dropped. */
    private static void set(double[] w, long bin, int filter, int m, double v) {
        long i = bin * m + filter;
        if (bin >= 0 && i < w.length) w[(int) i] = v;
    }

    private static double scalarDouble(KernelCall c, int i, String name) {
        Tensor t = c.required(i);
        if (t.numel() != 1) throw c.error(name + " must be a scalar, got shape " + Arrays.toString(t.shape()));
        return t.getDouble(0);
    }
}
