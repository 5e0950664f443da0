package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;
import static dev.gale.backends.cpu.GemmPacking.F;
import static dev.gale.backends.cpu.GemmPacking.NATIVE;

/**
 * Writes a micro-kernel tile into C: {@code C = alpha tile + cScale C} ({@code cScale} is beta for the first KC block
 * and 1 after it; C is not read when it is 0, so it may hold garbage as BLAS allows), then, after the last block, the
 * epilogue's bias, residual and activation while the tile is still in L1. Edge tiles use masked vector accesses.
 */
final class TileStore {
    private TileStore() {}

    /**
     * @param rows, cols the valid part of the tile
     * @param ep         the epilogue (positioned at the block's origin), or null before the last KC block
     * @param i0, j0     the tile's position within the block
     */
    static void store(float[] tile, int rows, int cols, float alpha, float cScale, Epilogue ep,
                      MemorySegment c, long cOff, long ldc, int i0, int j0) {
        boolean bias = ep != null && ep.bias() != null, residual = ep != null && ep.residual() != null;
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            long cRow = cOff + i * ldc + j0;
            float rowBias = bias && ep.biasPerRow() ? ep.bias().getAtIndex(F, ep.biasOffset() + i) : 0f;
            for (int v = 0; v < cols; v += L) {
                VectorMask<Float> mask = cols - v >= L ? null : S.indexInRange(v, cols);
                FloatVector acc = FloatVector.fromArray(S, tile, r * NR + v);
                if (alpha != 1f) acc = acc.mul(alpha);
                long at = (cRow + v) * Float.BYTES;
                if (cScale == 1f) acc = acc.add(load(c, at, mask));
                else if (cScale != 0f) acc = load(c, at, mask).fma(FloatVector.broadcast(S, cScale), acc);
                if (ep != null) {
                    if (bias) acc = ep.biasPerRow() ? acc.add(rowBias)
                            : acc.add(load(ep.bias(), (ep.biasOffset() + j0 + v) * Float.BYTES, mask));
                    if (residual) acc = acc.add(load(ep.residual(), (ep.residualOffset() + i * ep.ldr() + j0 + v) * Float.BYTES, mask));
                    acc = ep.activation().apply(acc);
                }
                if (mask == null) acc.intoMemorySegment(c, at, NATIVE);
                else acc.intoMemorySegment(c, at, NATIVE, mask);
            }
        }
    }

    static FloatVector load(MemorySegment s, long byteOffset, VectorMask<Float> mask) {
        return mask == null ? FloatVector.fromMemorySegment(S, s, byteOffset, NATIVE)
                : FloatVector.fromMemorySegment(S, s, byteOffset, NATIVE, mask);
    }
}
