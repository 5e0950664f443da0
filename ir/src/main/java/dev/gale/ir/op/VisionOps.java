package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: detection and sampling ops on NCHW feature maps. Categories follow TVM: RoI pooling is
 * output-elementwise-fusable, grid sampling injective, non-max suppression (data-dependent output size) opaque.
 */
final class VisionOps {
    private VisionOps() {}

    static void register() {
        define("NonMaxSuppression").inputs(2, 5).attr("center_point_box", 0L).category(OPAQUE)
                .infer(c -> {
                    Shape b = c.shape(0), s = c.shape(1);
                    if (b != null && (b.rank() != 3 || b.dim(2).isFixed() && b.dim(2).sizeOr(0) != 4))
                        throw c.error("boxes must have shape [batches, boxes, 4], got " + b);
                    if (s != null && s.rank() != 3)
                        throw c.error("scores must have shape [batches, classes, boxes], got " + s);
                    return List.of(Type.tensor(DType.INT64, Shape.of(Dim.UNKNOWN, Dim.of(3))));
                }).register();
        define("RoiAlign").inputs(3).attr("coordinate_transformation_mode", "half_pixel").attr("mode", "avg")
                .attr("output_height", 1L).attr("output_width", 1L).attr("sampling_ratio", 0L)
                .attr("spatial_scale", 1.0f).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(c -> roiOutput(c, 4, Dim.of(c.attrInt("output_height")), Dim.of(c.attrInt("output_width"))))
                .register();
        define("MaxRoiPool").inputs(2).required("pooled_shape", Attr.Kind.INTS).attr("spatial_scale", 1.0f)
                .category(OUT_ELEMENTWISE_FUSABLE)
                .infer(c -> {
                    long[] p = c.attrInts("pooled_shape");
                    if (p.length != 2 || p[0] < 1 || p[1] < 1)
                        throw c.error("pooled_shape must be two positive sizes (height, width)");
                    return roiOutput(c, 5, Dim.of(p[0]), Dim.of(p[1]));
                }).register();
        define("GridSample").inputs(2).attr("align_corners", 0L).attr("mode", "bilinear").attr("padding_mode", "zeros")
                .category(INJECTIVE)
                .infer(c -> {
                    Shape x = c.shape(0), g = c.shape(1);
                    if (x != null && x.rank() != 4) throw c.error("X must be 4-D (N, C, H, W), got " + x);
                    if (g != null && (g.rank() != 4 || g.dim(3).isFixed() && g.dim(3).sizeOr(0) != 2))
                        throw c.error("grid must have shape (N, H_out, W_out, 2), got " + g);
                    Dim n = x != null ? x.dim(0) : g != null ? g.dim(0) : Dim.UNKNOWN;
                    if (x != null && g != null && n.isFixed() && g.dim(0).isFixed() && !n.equals(g.dim(0)))
                        throw c.error("X has batch " + n + " but grid has batch " + g.dim(0));
                    if (!n.isFixed() && g != null && g.dim(0).isFixed()) n = g.dim(0);
                    return List.of(Type.tensor(c.dtype(0), Shape.of(n, x == null ? Dim.UNKNOWN : x.dim(1),
                            g == null ? Dim.UNKNOWN : g.dim(1), g == null ? Dim.UNKNOWN : g.dim(2))));
                }).register();
    }

    /** (num_rois, C, height, width) for RoI ops whose rois input has {@code roiWidth} columns. */
    private static List<Type> roiOutput(InferContext c, int roiWidth, Dim h, Dim w) {
        Shape x = c.shape(0), r = c.shape(1);
        if (x != null && x.rank() != 4) throw c.error("X must be 4-D (N, C, H, W), got " + x);
        if (r != null && (r.rank() != 2 || r.dim(1).isFixed() && r.dim(1).sizeOr(0) != roiWidth))
            throw c.error("rois must have shape [num_rois, " + roiWidth + "], got " + r);
        if (h.sizeOr(0) < 1 || w.sizeOr(0) < 1) throw c.error("the output size must be positive");
        return List.of(Type.tensor(c.dtype(0), Shape.of(r == null ? Dim.UNKNOWN : r.dim(0),
                x == null ? Dim.UNKNOWN : x.dim(1), h, w)));
    }
}
