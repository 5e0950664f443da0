package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.torture.grad.GradientCheck.Operand;
import dev.gale.torture.grad.GradientRulesTest.Case;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.torture.grad.GradientCheck.*;

/**
 * Gradient-check cases of the shape family: reshapes, transposes, Concat/Split, Slice (negative steps, clamped and
 * negative bounds, axes), the gathers (repeated and negative indices, embedding lookups) and scatters (data and
 * updates), Expand, Tile, Pad in every mode (negative pads crop, a trainable constant value), DepthToSpace and
 * SpaceToDepth, Resize (nearest, linear, cubic with antialias, tf_crop_and_resize), Trilu, ReverseSequence and
 * CenterCropPad. All are linear, so central differences are exact. (Compress has a data-dependent output shape,
 * which GradientCheck cannot seed: ShapeGradientsGraphTest checks it.)
 */
final class GradientCasesShape {
    private GradientCasesShape() {}

    static List<Case> cases(Random r) {
        List<Case> c = new ArrayList<>();
        reshapes(c, r);
        concatSplit(c, r);
        slices(c, r);
        gathers(c, r);
        scatters(c, r);
        broadcasts(c, r);
        pads(c, r);
        rearrangements(c, r);
        return c;
    }

    private static Operand ints(long... v) { return fixed(Tensor.vector(v)); }

    private static Operand floats(float... v) { return fixed(new Tensor(DType.FLOAT32, new long[] {v.length}, v)); }

    private static Operand ints(long[] shape, long... v) { return fixed(Tensor.ofLongs(shape, v)); }

    private static Case k(String name, String op, Map<String, Attr> attrs, Operand... in) {
        return new Case(name, op, attrs, java.util.Arrays.asList(in), 1);
    }

    private static void reshapes(List<Case> c, Random r) {
        c.add(k("Reshape to [4, -1]", "Reshape", Map.of(), param(r, 2, 3, 4), ints(4, -1)));
        c.add(k("Reshape with a copied dim", "Reshape", Map.of(), param(r, 2, 3, 4), ints(0, 12)));
        c.add(k("Reshape allowzero", "Reshape", Map.of("allowzero", Attr.of(1L)), param(r, 2, 3), ints(3, 2)));
        c.add(k("Reshape to a scalar", "Reshape", Map.of(), param(r, 1, 1), ints()));
        for (long axis : new long[] {0, 1, 2, -1, 3})
            c.add(k("Flatten axis " + axis, "Flatten", Map.of("axis", Attr.of(axis)), param(r, 2, 3, 4)));
        c.add(k("Squeeze axes 1,-1", "Squeeze", Map.of(), param(r, 2, 1, 3, 1), ints(1, -1)));
        c.add(k("Squeeze all ones", "Squeeze", Map.of(), param(r, 1, 3, 1)));
        c.add(k("Unsqueeze axis 0", "Unsqueeze", Map.of(), param(r, 2, 3), ints(0)));
        c.add(k("Unsqueeze axes -1,1", "Unsqueeze", Map.of(), param(r, 2, 3), ints(-1, 1)));
        c.add(k("Transpose default", "Transpose", Map.of(), param(r, 2, 3, 4)));
        c.add(k("Transpose 1,2,0", "Transpose", Map.of("perm", Attr.of(1L, 2L, 0L)), param(r, 2, 3, 4)));
        c.add(k("Transpose 0,2,3,1", "Transpose", Map.of("perm", Attr.of(0L, 2L, 3L, 1L)), param(r, 2, 3, 2, 4)));
        c.add(k("Identity", "Identity", Map.of(), param(r, 2, 2)));
    }

    private static void concatSplit(List<Case> c, Random r) {
        c.add(k("Concat axis 0", "Concat", Map.of("axis", Attr.of(0L)), param(r, 2, 3), param(r, 1, 3), param(r, 3, 3)));
        c.add(k("Concat axis 1", "Concat", Map.of("axis", Attr.of(1L)), param(r, 2, 3), param(r, 2, 1)));
        c.add(k("Concat axis -1 one frozen", "Concat", Map.of("axis", Attr.of(-1L)), param(r, 2, 2, 3),
                new Operand(random(r, -1, 1, 2, 2, 2), false), param(r, 2, 2, 1)));
        c.add(k("Concat single input", "Concat", Map.of("axis", Attr.of(0L)), param(r, 2, 3)));
        c.add(k("Concat with an empty input", "Concat", Map.of("axis", Attr.of(1L)), param(r, 2, 3), param(r, 2, 0)));
        c.add(new Case("Split equal", "Split", Map.of("axis", Attr.of(1L)), List.of(param(r, 2, 6)), 3));
        c.add(new Case("Split sizes axis -1", "Split", Map.of("axis", Attr.of(-1L)),
                List.of(param(r, 2, 3, 5), ints(2, 0, 3)), 3));
        c.add(new Case("Split num_outputs uneven", "Split", Map.of("num_outputs", Attr.of(2L)),
                List.of(param(r, 5, 2)), 2));
        c.add(new Case("Split one output", "Split", Map.of(), List.of(param(r, 3)), 1));
    }

    private static void slices(List<Case> c, Random r) {
        c.add(k("Slice axis 1", "Slice", Map.of(), param(r, 3, 5), ints(1), ints(4), ints(1)));
        c.add(k("Slice all axes, no axes input", "Slice", Map.of(), param(r, 4, 5), ints(1, 0), ints(3, 4)));
        c.add(k("Slice step 2", "Slice", Map.of(), param(r, 3, 7), ints(0, 1), ints(3, 7), ints(0, 1), ints(2, 2)));
        c.add(k("Slice negative step", "Slice", Map.of(), param(r, 3, 6), ints(-1), ints(-7), ints(1), ints(-2)));
        c.add(k("Slice reverse whole axis", "Slice", Map.of(), param(r, 2, 4), ints(Long.MAX_VALUE),
                ints(Long.MIN_VALUE), ints(-1), ints(-1)));
        c.add(k("Slice clamped bounds", "Slice", Map.of(), param(r, 3, 4), ints(-100, 2), ints(100, 1000),
                ints(0, 1)));
        c.add(k("Slice negative axis and starts", "Slice", Map.of(), param(r, 2, 3, 5), ints(-3), ints(-1), ints(-1)));
        c.add(k("Slice empty result", "Slice", Map.of(), param(r, 3, 4), ints(2), ints(1), ints(1)));
        c.add(k("Slice int32 bounds", "Slice", Map.of(), param(r, 4, 3),
                fixed(Tensor.ofInts(new long[] {1}, 1)), fixed(Tensor.ofInts(new long[] {1}, 3))));
    }

    private static void gathers(List<Case> c, Random r) {
        c.add(k("Gather embedding lookup, repeated and negative ids", "Gather", Map.of(), param(r, 5, 3),
                ints(new long[] {2, 3}, 1, 4, 1, -1, 0, 1)));
        c.add(k("Gather axis 1", "Gather", Map.of("axis", Attr.of(1L)), param(r, 2, 4, 3), ints(3, 0, 3)));
        c.add(k("Gather axis -1 scalar index", "Gather", Map.of("axis", Attr.of(-1L)), param(r, 3, 4),
                fixed(Tensor.scalarLong(DType.INT64, -2))));
        c.add(k("Gather int32 indices", "Gather", Map.of(), param(r, 4, 2),
                fixed(Tensor.ofInts(new long[] {3}, 3, 3, 0))));
        c.add(k("GatherElements axis 0", "GatherElements", Map.of(), param(r, 3, 2),
                ints(new long[] {2, 2}, 0, 1, 0, 0)));
        c.add(k("GatherElements axis -1 repeated", "GatherElements", Map.of("axis", Attr.of(-1L)), param(r, 2, 3),
                ints(new long[] {2, 4}, 2, 2, -1, 0, 1, 0, 1, 1)));
        c.add(k("GatherND", "GatherND", Map.of(), param(r, 3, 2, 2), ints(new long[] {3, 2}, 0, 1, 2, 0, 0, 1)));
        c.add(k("GatherND full tuples", "GatherND", Map.of(), param(r, 2, 3), ints(new long[] {2, 2}, 1, 2, 1, 2)));
    }

    private static void scatters(List<Case> c, Random r) {
        Operand idx = ints(new long[] {2, 2}, 1, 0, 2, 1);
        c.add(k("ScatterElements", "ScatterElements", Map.of(), param(r, 3, 2), idx, param(r, 2, 2)));
        c.add(k("ScatterElements axis 1 add, repeated", "ScatterElements",
                Map.of("axis", Attr.of(1L), "reduction", Attr.of("add")), param(r, 2, 3),
                ints(new long[] {2, 2}, 0, 0, -1, 1), param(r, 2, 2)));
        c.add(k("ScatterElements frozen data", "ScatterElements", Map.of(),
                new Operand(random(r, -1, 1, 3, 2), false), idx, param(r, 2, 2)));
        c.add(k("Scatter (opset 9)", "Scatter", Map.of(), param(r, 3, 2), idx, param(r, 2, 2)));
        c.add(k("ScatterND rows", "ScatterND", Map.of(), param(r, 4, 3), ints(new long[] {2, 1}, 3, 1),
                param(r, 2, 3)));
        c.add(k("ScatterND elements add, repeated", "ScatterND", Map.of("reduction", Attr.of("add")), param(r, 2, 3),
                ints(new long[] {3, 2}, 0, 1, 1, 2, 0, 1), param(r, 3)));
    }

    private static void broadcasts(List<Case> c, Random r) {
        c.add(k("Expand [3,1] to [2,3,4]", "Expand", Map.of(), param(r, 3, 1), ints(2, 3, 4)));
        c.add(k("Expand to a lower-rank shape", "Expand", Map.of(), param(r, 2, 1, 3), ints(4, 1)));
        c.add(k("Expand no-op", "Expand", Map.of(), param(r, 2, 3), ints(1)));
        c.add(k("Tile [2,1]", "Tile", Map.of(), param(r, 2, 3), ints(2, 1)));
        c.add(k("Tile [2,3,1]", "Tile", Map.of(), param(r, 2, 1, 2), ints(2, 3, 1)));
        c.add(k("Tile with zero repeats", "Tile", Map.of(), param(r, 2, 2), ints(0, 2)));
    }

    private static void pads(List<Case> c, Random r) {
        for (String mode : List.of("constant", "reflect", "edge", "wrap")) {
            Map<String, Attr> m = Map.of("mode", Attr.of(mode));
            c.add(k("Pad " + mode, "Pad", m, param(r, 3, 4), ints(1, 2, 2, 3)));
            c.add(k("Pad " + mode + " axes -1", "Pad", m, param(r, 2, 3, 4), ints(3, 1), null, ints(-1)));
            c.add(k("Pad " + mode + " negative pads crop", "Pad", m, param(r, 3, 5), ints(-1, 2, 1, -2)));
        }
        c.add(k("Pad constant trainable value", "Pad", Map.of(), param(r, 2, 3), ints(1, 0, 0, 2),
                new Operand(Tensor.ofDoubles(new long[0], 0.7), true)));
        c.add(k("Pad constant trainable value, crop and pad", "Pad", Map.of(), param(r, 3, 3), ints(-1, 1, 1, 0),
                new Operand(Tensor.ofDoubles(new long[] {1}, -0.3), true)));
    }

    private static void rearrangements(List<Case> c, Random r) {
        c.add(k("DepthToSpace DCR", "DepthToSpace", Map.of("blocksize", Attr.of(2L)), param(r, 1, 8, 2, 3)));
        // Resize: linear in x for fixed roi, scales and sizes, so ResizeGrad is that map's transpose.
        c.add(k("Resize nearest up", "Resize", Map.of("mode", Attr.of("nearest")), param(r, 1, 2, 3, 4), null,
                floats(1, 1, 2, 2)));
        c.add(k("Resize linear align_corners to sizes", "Resize", Map.of("mode", Attr.of("linear"),
                "coordinate_transformation_mode", Attr.of("align_corners")), param(r, 1, 1, 4, 5), null, null,
                ints(1, 1, 7, 3)));
        c.add(k("Resize cubic antialias down", "Resize", Map.of("mode", Attr.of("cubic"), "antialias", Attr.of(1L)),
                param(r, 1, 1, 6, 7), null, floats(1, 1, 0.5f, 0.6f)));
        c.add(k("Resize linear tf_crop_and_resize", "Resize", Map.of("mode", Attr.of("linear"),
                "coordinate_transformation_mode", Attr.of("tf_crop_and_resize"), "extrapolation_value", Attr.of(2.5f)),
                param(r, 1, 1, 4, 4), floats(0, 0, -0.2f, 0.1f, 1, 1, 0.8f, 1.3f), null, ints(1, 1, 5, 3)));
        c.add(k("DepthToSpace CRD", "DepthToSpace", Map.of("blocksize", Attr.of(2L), "mode", Attr.of("CRD")),
                param(r, 2, 8, 2, 3)));
        c.add(k("SpaceToDepth", "SpaceToDepth", Map.of("blocksize", Attr.of(2L)), param(r, 2, 2, 4, 2)));
        c.add(k("Trilu upper", "Trilu", Map.of(), param(r, 3, 4)));
        c.add(k("Trilu lower k = -1 batched", "Trilu", Map.of("upper", Attr.of(0L)), param(r, 2, 3, 3),
                fixed(Tensor.scalarLong(DType.INT64, -1))));
        c.add(k("Trilu upper k = 2", "Trilu", Map.of(), param(r, 4, 5), fixed(Tensor.scalarLong(DType.INT64, 2))));
        c.add(k("ReverseSequence", "ReverseSequence", Map.of("batch_axis", Attr.of(0L), "time_axis", Attr.of(1L)),
                param(r, 3, 4, 2), ints(4, 1, 2)));
        c.add(k("CenterCropPad crop and pad", "CenterCropPad", Map.of(), param(r, 5, 2), ints(2, 5)));
        c.add(k("CenterCropPad axes", "CenterCropPad", Map.of("axes", Attr.of(-1L)), param(r, 2, 3, 6), ints(3)));
    }
}
