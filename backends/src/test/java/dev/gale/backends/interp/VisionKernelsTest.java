package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class VisionKernelsTest {
    private static final Tensor PLANE = floats(s(1, 1, 2, 2), 1, 2, 3, 4);

    @Test
    void nonMaxSuppressionCenterPointFormatThresholdAndLimit() {
        // Three boxes as [x_center, y_center, w, h]: 0 and 1 overlap (IoU 0.6), 2 is apart.
        Tensor boxes = floats(s(1, 3, 4), 0.5, 0.5, 1, 1, 0.7, 0.5, 1, 1, 5, 5, 1, 1);
        Tensor scores = floats(s(1, 1, 3), 0.8, 0.9, 0.3);
        var r = runOnConstants("", "NonMaxSuppression", Map.of("center_point_box", Attr.of(1L)), 1, boxes,
                scores, Tensor.scalarLong(DType.INT64, 5), Tensor.scalar(DType.FLOAT32, 0.5),
                Tensor.scalar(DType.FLOAT32, 0.2));
        assertLongs(new long[] {0, 0, 1, 0, 0, 2}, r.get(0));
        assertEquals(Type.tensor(DType.INT64, Shape.of(Dim.UNKNOWN, Dim.of(3))), r.inferred().get(0));
        // A higher IoU threshold keeps the overlapping box; the limit keeps the two best.
        var all = runOnConstants("", "NonMaxSuppression", Map.of("center_point_box", Attr.of(1L)), 1, boxes, scores,
                Tensor.scalarLong(DType.INT64, 2), Tensor.scalar(DType.FLOAT32, 0.7));
        assertLongs(new long[] {0, 0, 1, 0, 0, 0}, all.get(0));
    }

    @Test
    void nonMaxSuppressionWithoutMaxOutputSelectsNothing() {
        var r = runOnConstants("", "NonMaxSuppression", Map.of(), 1, floats(s(1, 1, 4), 0, 0, 1, 1),
                floats(s(1, 1, 1), 1));
        assertArrayEquals(new long[] {0, 3}, r.get(0).shape());
    }

    @Test
    void roiAlignAverageAndMaxModes() {
        Tensor rois = floats(s(1, 4), 0, 0, 1, 1);
        Tensor batch = Tensor.vector(0);
        Map<String, Attr> common = Map.of("coordinate_transformation_mode", Attr.of("output_half_pixel"),
                "sampling_ratio", Attr.of(1L));
        assertClose(new double[] {2.5}, run1OnConstants("RoiAlign", common, PLANE, rois, batch), 1e-6);
        Map<String, Attr> max = new java.util.HashMap<>(common);
        max.put("mode", Attr.of("max"));
        // max of the weighted corner terms 0.25 * {1, 2, 3, 4}, as ONNX Runtime computes it
        assertClose(new double[] {1.0}, run1OnConstants("RoiAlign", max, PLANE, rois, batch), 1e-6);
    }

    @Test
    void roiAlignHalfPixelShiftsTheRoi() {
        // The half-pixel RoI [0, 2] becomes [-0.5, 1.5]: one sample at (0.5, 0.5) with sampling_ratio 1.
        Tensor y = run1OnConstants("RoiAlign", Map.of("sampling_ratio", Attr.of(1L)), PLANE,
                floats(s(1, 4), 0, 0, 2, 2), Tensor.vector(0));
        assertClose(new double[] {2.5}, y, 1e-6);
    }

    @Test
    void maxRoiPoolBins() {
        double[] v = new double[16];
        for (int i = 0; i < 16; i++) v[i] = i;
        Tensor x = floats(s(1, 1, 4, 4), v);
        Tensor y = run1OnConstants("MaxRoiPool", Map.of("pooled_shape", Attr.of(2L, 2L)), x,
                floats(s(1, 5), 0, 0, 0, 3, 3));
        assertClose(new double[] {5, 7, 13, 15}, y, 0);
    }

    @Test
    void gridSampleIdentityGridWithAlignedCorners() {
        Tensor grid = floats(s(1, 2, 2, 2), -1, -1, 1, -1, -1, 1, 1, 1);
        for (String mode : new String[] {"bilinear", "nearest", "bicubic"}) {
            Tensor y = run1OnConstants("GridSample", Map.of("align_corners", Attr.of(1L), "mode", Attr.of(mode)),
                    PLANE, grid);
            assertClose(new double[] {1, 2, 3, 4}, y, 1e-6);
        }
    }

    @Test
    void gridSampleBorderAndReflectionPadding() {
        // Grid x = 3 is pixel position 2 on a width-2 map (align_corners = 1): border clamps it to column 1,
        // reflection over [0, 1] maps it to column 0, zeros reads 0. Grid x = 0 samples midway between the columns.
        Tensor grid = floats(s(1, 1, 2, 2), 3, -1, 0, -1);
        Tensor border = run1OnConstants("GridSample", Map.of("align_corners", Attr.of(1L),
                "padding_mode", Attr.of("border")), PLANE, grid);
        assertClose(new double[] {2, 1.5}, border, 1e-6);
        Tensor reflect = run1OnConstants("GridSample", Map.of("align_corners", Attr.of(1L),
                "padding_mode", Attr.of("reflection")), PLANE, grid);
        assertClose(new double[] {1, 1.5}, reflect, 1e-6);
        Tensor zeros = run1OnConstants("GridSample", Map.of("align_corners", Attr.of(1L)), PLANE, grid);
        assertClose(new double[] {0, 1.5}, zeros, 1e-6);
    }
}
