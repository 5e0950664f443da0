package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Where the GEMM's B panels come from: a stored matrix, or (for a convolution) the input image itself, unfolded
 * straight into panel layout so that the column matrix is never written out.
 */
interface PanelSource {
    /**
     * Packs the panels of op(B)[p0:p0+kc, j0:j0+nc] that start at block columns {@code [jr0, jr1)} (multiples of NR)
     * into {@code pb[at + (jr / NR * kc + p) * NR + j]}, zeros past column nc.
     */
    void pack(int p0, int kc, int j0, int nc, int jr0, int jr1, float[] pb, int at);

    /** B[p, j] at {@code off + p * ld + j}, or at {@code off + j * ld + p} when {@code trans}. */
    record Matrix(boolean trans, MemorySegment b, long off, long ld) implements PanelSource {
        @Override
        public void pack(int p0, int kc, int j0, int nc, int jr0, int jr1, float[] pb, int at) {
            GemmPacking.packB(trans, b, off, ld, p0, kc, j0, nc, jr0, jr1, pb, at);
        }
    }

    /**
     * The column matrix of one image (and group) of a convolution: B[r, p] is what kernel row r (channel, ki, kj)
     * meets at output pixel p; {@code xOff} is the group's first channel.
     */
    record Unfolded(Window2d window, MemorySegment x, long xOff) implements PanelSource {
        @Override
        public void pack(int p0, int kc, int j0, int nc, int jr0, int jr1, float[] pb, int at) {
            Im2col.unfoldPanels(window, x, xOff, p0, kc, j0 + jr0, j0 + Math.min(nc, jr1), pb, at + jr0 * kc);
        }
    }
}
