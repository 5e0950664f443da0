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

    /**
     * The column matrices of consecutive images side by side, for outputs of few pixels an image: B[r, i * pixels + q]
     * is what kernel row r (channel, tap) meets at output pixel q of image i, whose group's first channel is at
     * {@code xOff + i * imageStride}. Each value is read through a table of the taps' input offsets, built once per
     * convolution call and shared by its products ({@link #from}): the run-by-run unfolding of {@link Unfolded} spent
     * most of its time on the bookkeeping of runs of one to eight pixels.
     *
     * @param taps    the kernel's taps (kh kw)
     * @param offsets {@code offsets[t * pixels + q]}: the input offset within a channel plane that tap t reads for
     *                output pixel q, or -1 in the padding
     */
    record Images(MemorySegment x, long xOff, long imageStride, int pixels, int planeSize, int taps, int[] offsets)
            implements PanelSource {
        static Images of(Window2d g, MemorySegment x, long xOff, long imageStride) {
            return new Images(x, xOff, imageStride, g.outSize(), g.inSize(), g.kernelSize(), tapOffsets(g));
        }

        /**
         * {@code offsets[t * pixels + q]}: the input offset within a channel plane that tap t reads for output pixel
         * q, or -1 in the padding.
         */
        static int[] tapOffsets(Window2d g) {
            int pixels = g.outSize(), taps = g.kernelSize();
            int[] offsets = new int[taps * pixels];
            for (int t = 0; t < taps; t++) {
                int ki = t / g.kw(), kj = t % g.kw();
                for (int q = 0; q < pixels; q++) {
                    int iy = q / g.ow() * g.strideH() - g.padTop() + ki * g.dilationH();
                    int ix = q % g.ow() * g.strideW() - g.padLeft() + kj * g.dilationW();
                    offsets[t * pixels + q] = iy < 0 || iy >= g.h() || ix < 0 || ix >= g.w() ? -1 : iy * g.w() + ix;
                }
            }
            return offsets;
        }

        /** The same images' columns with the first image's group at {@code at} (the table is shared). */
        Images from(long at) { return new Images(x, at, imageStride, pixels, planeSize, taps, offsets); }

        @Override
        public void pack(int p0, int kc, int j0, int nc, int jr0, int jr1, float[] pb, int at) {
            int c0 = j0 + jr0, c1 = j0 + Math.min(nc, jr1), base = at + jr0 * kc, nr = GemmKernel.NR;
            for (int r = p0; r < p0 + kc; r++) {
                int tap = r % taps * pixels, rowBase = base + (r - p0) * nr;
                long channel = xOff + (long) (r / taps) * planeSize;
                for (int col = c0; col < c1; ) {
                    int img = col / pixels, q = col - img * pixels, end = Math.min(c1, (img + 1) * pixels);
                    long plane = channel + img * imageStride;
                    for (; col < end; col++, q++) {
                        int rel = col - c0, off = offsets[tap + q];
                        pb[rowBase + rel / nr * kc * nr + rel % nr] =
                                off < 0 ? 0f : GemmPacking.flush(x.getAtIndex(GemmPacking.F, plane + off));
                    }
                }
            }
            int used = c1 - c0, tail = used % nr;
            if (tail != 0) {
                int panel = base + used / nr * kc * nr;
                for (int r = 0; r < kc; r++) java.util.Arrays.fill(pb, panel + r * nr + tail, panel + (r + 1) * nr, 0f);
            }
        }
    }
}
