package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: non-max suppression, RoI pooling (RoiAlign, MaxRoiPool) and GridSample on NCHW maps. Where
 * the ONNX text leaves details open, they follow ONNX Runtime (RoiAlign, NonMaxSuppression) and PyTorch's
 * {@code grid_sample} (GridSample), which the conformance data was produced with.
 */
final class VisionKernels {
    private VisionKernels() {}

    static void registerAll() {
        register("NonMaxSuppression", Kernel.single(VisionKernels::nonMaxSuppression));
        register("RoiAlign", Kernel.single(VisionKernels::roiAlign));
        register("MaxRoiPool", Kernel.single(VisionKernels::maxRoiPool));
        register("GridSample", Kernel.single(VisionKernels::gridSample));
    }

    // ---- NonMaxSuppression

    /** A box as its corners with {@code y1 <= y2} and {@code x1 <= x2}. */
    private record Box(double y1, double x1, double y2, double x2) {
        double area() { return (y2 - y1) * (x2 - x1); }
    }

    private static Box box(Tensor boxes, int at, boolean centerPoint) {
        double a = boxes.getDouble(at), b = boxes.getDouble(at + 1);
        double c = boxes.getDouble(at + 2), d = boxes.getDouble(at + 3);
        if (centerPoint) // [x_center, y_center, width, height]
            return new Box(b - d / 2, a - c / 2, b + d / 2, a + c / 2);
        return new Box(Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)); // [y1, x1, y2, x2]
    }

    /** True when the boxes overlap by more than {@code threshold} IoU; empty boxes never suppress. */
    private static boolean suppresses(Box p, Box q, double threshold) {
        double ih = Math.min(p.y2, q.y2) - Math.max(p.y1, q.y1), iw = Math.min(p.x2, q.x2) - Math.max(p.x1, q.x1);
        if (ih <= 0 || iw <= 0 || p.area() <= 0 || q.area() <= 0) return false;
        double inter = ih * iw, union = p.area() + q.area() - inter;
        return union > 0 && inter / union > threshold;
    }

    /**
     * Per batch and class: boxes scoring above the threshold, by descending score (ties by index), each kept unless it
     * overlaps an already kept box by more than the IoU threshold, at most {@code max_output_boxes_per_class}.
     */
    private static Tensor nonMaxSuppression(KernelCall c) {
        Tensor boxes = c.required(0), scores = c.required(1);
        if (boxes.rank() != 3 || boxes.dim(2) != 4)
            throw c.error("boxes must have shape [batches, boxes, 4], got " + Arrays.toString(boxes.shape()));
        if (scores.rank() != 3 || scores.dim(0) != boxes.dim(0) || scores.dim(2) != boxes.dim(1))
            throw c.error("scores must have shape [" + boxes.dim(0) + ", classes, " + boxes.dim(1) + "], got "
                    + Arrays.toString(scores.shape()));
        long maxOut = c.has(2) ? scalar(c, c.in(2), "max_output_boxes_per_class").longValue() : 0;
        double iouThreshold = c.has(3) ? scalar(c, c.in(3), "iou_threshold").doubleValue() : 0;
        Double scoreThreshold = c.has(4) ? scalar(c, c.in(4), "score_threshold").doubleValue() : null;
        if (iouThreshold < 0 || iouThreshold > 1) throw c.error("iou_threshold must be in [0, 1], got " + iouThreshold);
        boolean centerPoint = c.attrInt("center_point_box") != 0;
        int batches = (int) boxes.dim(0), classes = (int) scores.dim(1), count = (int) boxes.dim(1);
        List<long[]> selected = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            Box[] all = new Box[count];
            for (int i = 0; i < count; i++) all[i] = box(boxes, (b * count + i) * 4, centerPoint);
            for (int k = 0; k < classes; k++) {
                int base = (b * classes + k) * count;
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < count; i++)
                    if (scoreThreshold == null || scores.getDouble(base + i) > scoreThreshold) order.add(i);
                order.sort(Comparator.comparingDouble((Integer i) -> -scores.getDouble(base + i)));
                List<Integer> kept = new ArrayList<>();
                for (int i : order) {
                    if (kept.size() >= maxOut) break;
                    boolean keep = true;
                    for (int j : kept) keep &= !suppresses(all[j], all[i], iouThreshold);
                    if (keep) {
                        kept.add(i);
                        selected.add(new long[] {b, k, i});
                    }
                }
            }
        }
        Tensor y = Tensor.zeros(DType.INT64, selected.size(), 3);
        for (int i = 0; i < selected.size(); i++)
            for (int j = 0; j < 3; j++) y.setLong(3 * i + j, selected.get(i)[j]);
        return y;
    }

    private static Number scalar(KernelCall c, Tensor t, String name) {
        if (t.numel() != 1) throw c.error(name + " must be a scalar, got shape " + Arrays.toString(t.shape()));
        return t.dtype().isFloat() ? (Number) t.getDouble(0) : (Number) t.getLong(0);
    }

    // ---- RoiAlign and MaxRoiPool

    private static void checkRois(KernelCall c, Tensor x, Tensor rois, int width) {
        if (x.rank() != 4) throw c.error("X must be 4-D (N, C, H, W), got " + Arrays.toString(x.shape()));
        if (rois.rank() != 2 || rois.dim(1) != width)
            throw c.error("rois must have shape [num_rois, " + width + "], got " + Arrays.toString(rois.shape()));
    }

    /**
     * Each output bin averages (or maxes) a grid of bilinear samples. With {@code half_pixel} the RoI corners shift
     * by -0.5; with {@code output_half_pixel} (the pre-opset-16 behavior) they do not and the RoI is at least 1x1.
     * Samples more than one pixel outside the map are 0; samples in that margin clamp to the edge. Max mode takes the
     * largest weighted corner term of each sample, as ONNX Runtime does.
     */
    private static Tensor roiAlign(KernelCall c) {
        Tensor x = c.required(0), rois = c.required(1), batchIndices = c.required(2);
        checkRois(c, x, rois, 4);
        int numRois = (int) rois.dim(0);
        if (batchIndices.rank() != 1 || batchIndices.dim(0) != numRois)
            throw c.error("batch_indices must have shape [" + numRois + "], got "
                    + Arrays.toString(batchIndices.shape()));
        String ctm = c.attrString("coordinate_transformation_mode");
        if (!ctm.equals("half_pixel") && !ctm.equals("output_half_pixel"))
            throw c.error("coordinate_transformation_mode must be half_pixel or output_half_pixel, got '" + ctm + "'");
        String mode = c.attrString("mode");
        if (!mode.equals("avg") && !mode.equals("max")) throw c.error("mode must be avg or max, got '" + mode + "'");
        boolean halfPixel = ctm.equals("half_pixel"), max = mode.equals("max");
        long oh = c.attrInt("output_height"), ow = c.attrInt("output_width"), ratio = c.attrInt("sampling_ratio");
        if (oh < 1 || ow < 1 || ratio < 0) throw c.error("output sizes must be positive and sampling_ratio >= 0");
        double scale = c.attrFloat("spatial_scale"), offset = halfPixel ? 0.5 : 0;
        int channels = (int) x.dim(1), h = (int) x.dim(2), w = (int) x.dim(3);
        Tensor y = Tensor.zeros(x.dtype(), numRois, channels, oh, ow);
        for (int r = 0; r < numRois; r++) {
            long b = batchIndices.getLong(r);
            if (b < 0 || b >= x.dim(0)) throw c.error("batch index " + b + " is out of range for batch " + x.dim(0));
            double x1 = rois.getDouble(4 * r) * scale - offset, y1 = rois.getDouble(4 * r + 1) * scale - offset;
            double x2 = rois.getDouble(4 * r + 2) * scale - offset, y2 = rois.getDouble(4 * r + 3) * scale - offset;
            double rw = x2 - x1, rh = y2 - y1;
            if (!halfPixel) {
                rw = Math.max(rw, 1);
                rh = Math.max(rh, 1);
            }
            double binH = rh / oh, binW = rw / ow;
            long gridH = ratio > 0 ? ratio : (long) Math.ceil(rh / oh), gridW = ratio > 0 ? ratio : (long) Math.ceil(rw / ow);
            double count = Math.max(gridH * gridW, 1);
            for (int ch = 0; ch < channels; ch++) {
                int plane = (int) ((b * channels + ch) * h * w);
                for (int ph = 0; ph < oh; ph++) {
                    for (int pw = 0; pw < ow; pw++) {
                        double acc = 0;
                        boolean first = true;
                        for (int iy = 0; iy < gridH; iy++) {
                            double sy = y1 + ph * binH + (iy + 0.5) * binH / gridH;
                            for (int ix = 0; ix < gridW; ix++) {
                                double sx = x1 + pw * binW + (ix + 0.5) * binW / gridW;
                                double[] t = bilinearTerms(x, plane, h, w, sy, sx);
                                double v = max ? Math.max(Math.max(t[0], t[1]), Math.max(t[2], t[3]))
                                        : t[0] + t[1] + t[2] + t[3];
                                acc = max ? (first ? v : Math.max(acc, v)) : acc + v;
                                first = false;
                            }
                        }
                        y.setDouble((int) (((long) (r * channels + ch) * oh + ph) * ow + pw), max ? acc : acc / count);
                    }
                }
            }
        }
        return y;
    }

    /** The four weighted corner values of a bilinear sample at (y, x) of one H x W plane. */
    private static double[] bilinearTerms(Tensor t, int plane, int h, int w, double y, double x) {
        if (y < -1 || y > h || x < -1 || x > w) return new double[4];
        y = Math.max(y, 0);
        x = Math.max(x, 0);
        int y0 = (int) y, x0 = (int) x, y1, x1;
        if (y0 >= h - 1) {
            y0 = y1 = h - 1;
            y = y0;
        } else {
            y1 = y0 + 1;
        }
        if (x0 >= w - 1) {
            x0 = x1 = w - 1;
            x = x0;
        } else {
            x1 = x0 + 1;
        }
        double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
        return new double[] {hy * hx * t.getDouble(plane + y0 * w + x0), hy * lx * t.getDouble(plane + y0 * w + x1),
                ly * hx * t.getDouble(plane + y1 * w + x0), ly * lx * t.getDouble(plane + y1 * w + x1)};
    }

    /**
     * Caffe's RoI max pooling: RoI corners round to whole pixels, each bin covers
     * {@code [floor(i * size / n), ceil((i + 1) * size / n))} of the RoI clipped to the map, an empty bin gives 0.
     */
    private static Tensor maxRoiPool(KernelCall c) {
        Tensor x = c.required(0), rois = c.required(1);
        checkRois(c, x, rois, 5);
        long[] pooled = c.attrInts("pooled_shape");
        if (pooled.length != 2 || pooled[0] < 1 || pooled[1] < 1)
            throw c.error("pooled_shape must be two positive sizes (height, width)");
        double scale = c.attrFloat("spatial_scale");
        int numRois = (int) rois.dim(0), channels = (int) x.dim(1), h = (int) x.dim(2), w = (int) x.dim(3);
        int ph = (int) pooled[0], pw = (int) pooled[1];
        Tensor y = Tensor.zeros(x.dtype(), numRois, channels, ph, pw);
        for (int r = 0; r < numRois; r++) {
            long b = (long) rois.getDouble(5 * r);
            if (b < 0 || b >= x.dim(0)) throw c.error("batch index " + b + " is out of range for batch " + x.dim(0));
            long xs = roundHalfAway(rois.getDouble(5 * r + 1) * scale), ys = roundHalfAway(rois.getDouble(5 * r + 2) * scale);
            long xe = roundHalfAway(rois.getDouble(5 * r + 3) * scale), ye = roundHalfAway(rois.getDouble(5 * r + 4) * scale);
            double binH = (double) Math.max(ye - ys + 1, 1) / ph, binW = (double) Math.max(xe - xs + 1, 1) / pw;
            for (int ch = 0; ch < channels; ch++) {
                long plane = (b * channels + ch) * h * w;
                for (int i = 0; i < ph; i++) {
                    long hs = clamp((long) Math.floor(i * binH) + ys, h), he = clamp((long) Math.ceil((i + 1) * binH) + ys, h);
                    for (int j = 0; j < pw; j++) {
                        long ws = clamp((long) Math.floor(j * binW) + xs, w);
                        long we = clamp((long) Math.ceil((j + 1) * binW) + xs, w);
                        double m = hs >= he || ws >= we ? 0 : Double.NEGATIVE_INFINITY;
                        for (long yy = hs; yy < he; yy++)
                            for (long xx = ws; xx < we; xx++) m = Math.max(m, x.getDouble((int) (plane + yy * w + xx)));
                        y.setDouble(((r * channels + ch) * ph + i) * pw + j, m);
                    }
                }
            }
        }
        return y;
    }

    private static long roundHalfAway(double v) { return (long) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5)); }

    private static long clamp(long v, long size) { return Math.min(Math.max(v, 0), size); }

    // ---- GridSample

    /** Grid coordinate in [-1, 1] to a pixel position. */
    private static double unnormalize(double g, int size, boolean alignCorners) {
        return alignCorners ? (g + 1) / 2 * (size - 1) : ((g + 1) * size - 1) / 2;
    }

    /** Reflects {@code v} into [twiceLow / 2, twiceHigh / 2] as many times as needed. */
    private static double reflect(double v, double twiceLow, double twiceHigh) {
        if (twiceLow == twiceHigh) return 0;
        double min = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
        v = Math.abs(v - min);
        double extra = v % span;
        long flips = (long) Math.floor(v / span);
        return flips % 2 == 0 ? extra + min : span - extra + min;
    }

    /** Applies border or reflection padding to a pixel position; zeros padding leaves it (reads outside give 0). */
    private static double pad(double v, int size, String padding, boolean alignCorners) {
        return switch (padding) {
            case "border" -> Math.min(size - 1, Math.max(v, 0));
            case "reflection" -> Math.min(size - 1, Math.max(0,
                    alignCorners ? reflect(v, 0, 2.0 * (size - 1)) : reflect(v, -1, 2.0 * size - 1)));
            default -> v;
        };
    }

    private static double cubic1(double t, double a) { return ((a + 2) * t - (a + 3)) * t * t + 1; }

    private static double cubic2(double t, double a) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; }

    /** Keys' cubic convolution weights (a = -0.75, as PyTorch) for the four taps around a fraction t. */
    private static double[] cubicWeights(double t) {
        double a = -0.75;
        return new double[] {cubic2(t + 1, a), cubic1(t, a), cubic1(1 - t, a), cubic2(2 - t, a)};
    }

    /**
     * PyTorch's grid_sample on (N, C, H, W) with a (N, H_out, W_out, 2) grid of (x, y) in [-1, 1]. Bilinear and
     * nearest pad the sample position then read 0 outside the map; bicubic pads each of its 4x4 taps.
     */
    private static Tensor gridSample(KernelCall c) {
        Tensor x = c.required(0), grid = c.required(1);
        if (x.rank() != 4) throw c.error("X must be 4-D (N, C, H, W), got " + Arrays.toString(x.shape()));
        if (grid.rank() != 4 || grid.dim(3) != 2 || grid.dim(0) != x.dim(0))
            throw c.error("grid must have shape (" + x.dim(0) + ", H_out, W_out, 2), got "
                    + Arrays.toString(grid.shape()));
        String mode = c.attrString("mode"), padding = c.attrString("padding_mode");
        if (!List.of("bilinear", "nearest", "bicubic").contains(mode))
            throw c.error("mode must be bilinear, nearest or bicubic, got '" + mode + "'");
        if (!List.of("zeros", "border", "reflection").contains(padding))
            throw c.error("padding_mode must be zeros, border or reflection, got '" + padding + "'");
        boolean align = c.attrInt("align_corners") != 0;
        int n = (int) x.dim(0), channels = (int) x.dim(1), h = (int) x.dim(2), w = (int) x.dim(3);
        int oh = (int) grid.dim(1), ow = (int) grid.dim(2);
        Tensor y = Tensor.zeros(x.dtype(), n, channels, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int g = ((b * oh + i) * ow + j) * 2;
                    double gx = unnormalize(grid.getDouble(g), w, align), gy = unnormalize(grid.getDouble(g + 1), h, align);
                    for (int ch = 0; ch < channels; ch++) {
                        int plane = (b * channels + ch) * h * w;
                        double v = switch (mode) {
                            case "nearest" -> at(x, plane, h, w, Math.rint(pad(gy, h, padding, align)),
                                    Math.rint(pad(gx, w, padding, align)));
                            case "bilinear" -> {
                                double py = pad(gy, h, padding, align), px = pad(gx, w, padding, align);
                                double y0 = Math.floor(py), x0 = Math.floor(px), ty = py - y0, tx = px - x0;
                                yield at(x, plane, h, w, y0, x0) * (1 - ty) * (1 - tx)
                                        + at(x, plane, h, w, y0, x0 + 1) * (1 - ty) * tx
                                        + at(x, plane, h, w, y0 + 1, x0) * ty * (1 - tx)
                                        + at(x, plane, h, w, y0 + 1, x0 + 1) * ty * tx;
                            }
                            default -> {
                                double y0 = Math.floor(gy), x0 = Math.floor(gx);
                                double[] wy = cubicWeights(gy - y0), wx = cubicWeights(gx - x0);
                                double s = 0;
                                for (int p = 0; p < 4; p++)
                                    for (int q = 0; q < 4; q++)
                                        s += wy[p] * wx[q] * at(x, plane, h, w, pad(y0 - 1 + p, h, padding, align),
                                                pad(x0 - 1 + q, w, padding, align));
                                yield s;
                            }
                        };
                        y.setDouble(((b * channels + ch) * oh + i) * ow + j, v);
                    }
                }
            }
        }
        return y;
    }

    /** The pixel at integral position (y, x) of a plane, 0 outside it. */
    private static double at(Tensor t, int plane, int h, int w, double y, double x) {
        if (!(y >= 0 && y < h && x >= 0 && x < w)) return 0;
        return t.getDouble(plane + (int) y * w + (int) x);
    }
}
