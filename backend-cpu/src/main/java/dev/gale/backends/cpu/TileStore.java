package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;
import static dev.gale.backends.cpu.GemmPacking.F;
import static dev.gale.backends.cpu.GemmPacking.NATIVE;

/**
 * Writes a micro-kernel tile into C: {@code C = alpha tile + cScale C} ({@code cScale} is beta for the first KC block
 * and 1 after it; C is not read when it is 0, so it may hold garbage as BLAS allows), then, after the last block, the
 * epilogue's bias, residual and activation while the tile is still in L1.
 *
 * <p>Written for C2: every loop works on the concrete species with no vector-returning helper calls (an un-inlined
 * call boxes its vectors), so each case is its own straight loop. The epilogue runs in place on the tile buffer,
 * stage by stage, and then the tile is copied out; partial edge tiles go element by element.
 */
final class TileStore {
    private TileStore() {}

    /**
     * @param rows the valid rows of the tile
     * @param cols the valid columns of the tile
     * @param ep   the epilogue (positioned at the block's origin), or null before the last KC block
     * @param i0   the tile's first row within the block
     * @param j0   the tile's first column within the block
     */
    static void store(float[] tile, int rows, int cols, float alpha, float cScale, Epilogue ep,
                      MemorySegment c, long cOff, long ldc, int i0, int j0) {
        if (ep != null && ep.isNone()) ep = null;
        if (cols < NR) {
            storeEdge(tile, rows, cols, alpha, cScale, ep, c, cOff, ldc, i0, j0);
            return;
        }
        if (ep == null) {
            if (alpha == 1f && cScale == 0f) copyOut(tile, rows, c, cOff, ldc, i0, j0);
            else if (alpha == 1f && cScale == 1f) accumulateOut(tile, rows, c, cOff, ldc, i0, j0);
            else scaleOut(tile, rows, alpha, cScale, c, cOff, ldc, i0, j0);
            return;
        }
        // Epilogue: combine with C, add bias and residual, activate, all in the tile; then copy out.
        if (alpha != 1f || cScale != 0f) combineIn(tile, rows, alpha, cScale, c, cOff, ldc, i0, j0);
        if (ep.bias() != null) {
            if (ep.biasPerRow()) addRowBias(tile, rows, ep.bias(), ep.biasOffset() + i0);
            else addColumnBias(tile, rows, ep.bias(), ep.biasOffset() + j0);
        }
        if (ep.residual() != null) addResidual(tile, rows, ep.residual(), ep.residualOffset() + i0 * ep.ldr() + j0, ep.ldr());
        ep.activation().apply(tile, rows * NR);
        copyOut(tile, rows, c, cOff, ldc, i0, j0);
    }

    private static void copyOut(float[] tile, int rows, MemorySegment c, long cOff, long ldc, int i0, int j0) {
        for (int r = 0; r < rows; r++) {
            long at = (cOff + (i0 + r) * ldc + j0) * Float.BYTES;
            FloatVector.fromArray(S, tile, r * NR).intoMemorySegment(c, at, NATIVE);
            FloatVector.fromArray(S, tile, r * NR + L).intoMemorySegment(c, at + (long) L * Float.BYTES, NATIVE);
        }
    }

    private static void accumulateOut(float[] tile, int rows, MemorySegment c, long cOff, long ldc, int i0, int j0) {
        for (int r = 0; r < rows; r++) {
            long at = (cOff + (i0 + r) * ldc + j0) * Float.BYTES, at2 = at + (long) L * Float.BYTES;
            FloatVector.fromArray(S, tile, r * NR).add(FloatVector.fromMemorySegment(S, c, at, NATIVE))
                    .intoMemorySegment(c, at, NATIVE);
            FloatVector.fromArray(S, tile, r * NR + L).add(FloatVector.fromMemorySegment(S, c, at2, NATIVE))
                    .intoMemorySegment(c, at2, NATIVE);
        }
    }

    private static void scaleOut(float[] tile, int rows, float alpha, float cScale, MemorySegment c, long cOff, long ldc,
                                 int i0, int j0) {
        combineIn(tile, rows, alpha, cScale, c, cOff, ldc, i0, j0);
        copyOut(tile, rows, c, cOff, ldc, i0, j0);
    }

    /** tile = alpha tile + cScale C (C unread when cScale is 0). */
    private static void combineIn(float[] tile, int rows, float alpha, float cScale, MemorySegment c, long cOff, long ldc,
                                  int i0, int j0) {
        if (cScale == 0f) {
            for (int i = 0; i < rows * NR; i += L) FloatVector.fromArray(S, tile, i).mul(alpha).intoArray(tile, i);
            return;
        }
        for (int r = 0; r < rows; r++) {
            long at = (cOff + (i0 + r) * ldc + j0) * Float.BYTES;
            for (int v = 0; v < NR; v += L) {
                FloatVector old = FloatVector.fromMemorySegment(S, c, at + (long) v * Float.BYTES, NATIVE);
                FloatVector.fromArray(S, tile, r * NR + v).mul(alpha).add(old.mul(cScale)).intoArray(tile, r * NR + v);
            }
        }
    }

    private static void addRowBias(float[] tile, int rows, MemorySegment bias, long at) {
        for (int r = 0; r < rows; r++) {
            float b = bias.getAtIndex(F, at + r);
            for (int v = 0; v < NR; v += L) FloatVector.fromArray(S, tile, r * NR + v).add(b).intoArray(tile, r * NR + v);
        }
    }

    private static void addColumnBias(float[] tile, int rows, MemorySegment bias, long at) {
        FloatVector b0 = FloatVector.fromMemorySegment(S, bias, at * Float.BYTES, NATIVE);
        FloatVector b1 = FloatVector.fromMemorySegment(S, bias, (at + L) * Float.BYTES, NATIVE);
        for (int r = 0; r < rows; r++) {
            FloatVector.fromArray(S, tile, r * NR).add(b0).intoArray(tile, r * NR);
            FloatVector.fromArray(S, tile, r * NR + L).add(b1).intoArray(tile, r * NR + L);
        }
    }

    private static void addResidual(float[] tile, int rows, MemorySegment res, long at, long ld) {
        for (int r = 0; r < rows; r++) {
            long row = (at + r * ld) * Float.BYTES;
            for (int v = 0; v < NR; v += L)
                FloatVector.fromArray(S, tile, r * NR + v).add(FloatVector.fromMemorySegment(S, res, row + (long) v * Float.BYTES, NATIVE))
                        .intoArray(tile, r * NR + v);
        }
    }

    /** A tile narrower than NR (the last panel of C): the same steps, one element at a time. */
    private static void storeEdge(float[] tile, int rows, int cols, float alpha, float cScale, Epilogue ep,
                                  MemorySegment c, long cOff, long ldc, int i0, int j0) {
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            long row = cOff + i * ldc + j0;
            for (int j = 0; j < cols; j++) {
                float v = alpha * tile[r * NR + j];
                if (cScale != 0f) v += cScale * c.getAtIndex(F, row + j);
                if (ep != null) {
                    if (ep.bias() != null) v += ep.bias().getAtIndex(F, ep.biasOffset() + (ep.biasPerRow() ? i : j0 + j));
                    if (ep.residual() != null) v += ep.residual().getAtIndex(F, ep.residualOffset() + i * ep.ldr() + j0 + j);
                }
                tile[r * NR + j] = v;
            }
            // Whole vectors (lanes past cols are the row's unused tile columns, never copied out): the scalar form
            // of a VMath function is its vector form on one lane, which C2 boxes when it cannot inline it whole.
            if (ep != null) ep.activation().apply(tile, r * NR, GemmKernel.roundUp(cols, L));
            for (int j = 0; j < cols; j++) c.setAtIndex(F, row + j, tile[r * NR + j]);
        }
    }
}
