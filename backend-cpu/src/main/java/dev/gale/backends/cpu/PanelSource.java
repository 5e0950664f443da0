package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;

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
            return new Images(x, xOff, imageStride, g.outSize(), g.inSize(), g.kernelSize(), WindowTables.tapOffsets(g));
        }

        /**
         * {@code offsets[t * pixels + q]}: the input offset within a channel plane that tap t reads for output pixel
         * q, or -1 in the padding.
         */
        static int[] buildTapOffsets(Window2d g) {
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

        /**
         * {@code pb[rowBase + panel(rel)] = planes[index[tap + rel]]} for the columns {@code rel} in {@code [0, vcols)}
         * (a multiple of the vector length), a vector at a time: a vector never crosses a panel.
         */
        private static void gatherLoop(float[] planes, int[] index, int tap, float[] pb, int rowBase, int kc,
                                       int vcols) {
            int nr = GemmKernel.NR;
            for (int rel = 0; rel < vcols; rel += GemmKernel.L)
                FloatVector.fromArray(GemmKernel.S, planes, 0, index, tap + rel)
                        .intoArray(pb, rowBase + rel / nr * kc * nr + rel % nr);
        }

        /**
         * Per thread: the planes and the gather table {@link #pack} uses, grown to the largest asked for. The table
         * depends on the columns and the tap table only, not on the KC block, so the blocks of one product share it.
         */
        private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

        private static final class Buffers {
            private float[] planes = new float[0];
            private int[] index = new int[0];
            private int[] indexOffsets;
            private int indexPlane, indexC0, indexC1;

            float[] planes(int size) { return planes.length >= size ? planes : (planes = new float[size]); }

            /** The table built last, when it was for these columns of the same taps and planes; else null. */
            int[] index(int[] offsets, int planeSize, int c0, int c1) {
                return offsets == indexOffsets && planeSize == indexPlane && c0 == indexC0 && c1 == indexC1 ? index
                        : null;
            }

            /** Room for a new table of {@code size} ints for these columns, to be filled by the caller. */
            int[] newIndex(int[] offsets, int planeSize, int c0, int c1, int size) {
                if (index.length < size) index = new int[size];
                indexOffsets = offsets;
                indexPlane = planeSize;
                indexC0 = c0;
                indexC1 = c1;
                return index;
            }
        }

        /** The same images' columns with the first image's group at {@code at} (the table is shared). */
        Images from(long at) { return new Images(x, at, imageStride, pixels, planeSize, taps, offsets); }

        @Override
        public void pack(int p0, int kc, int j0, int nc, int jr0, int jr1, float[] pb, int at) {
            int c0 = j0 + jr0, c1 = j0 + Math.min(nc, jr1), base = at + jr0 * kc, nr = GemmKernel.NR, cols = c1 - c0;
            if (cols <= 0) return;
            // The planes of the current channel for the images [img0, img1) these columns cover, flushed, each followed
            // by a zero that the padding's taps read, are loaded once per channel; each row (channel, tap) is then a
            // gather from them through a table of the columns' positions for each tap, a vector of columns (within
            // one panel) at a time. Read value by value from the segment, with its flush, per tap and pixel, the
            // unfolding was a third of the time of a 256-channel 4 x 4 layer at batch 8.
            int img0 = c0 / pixels, img1 = (c1 - 1) / pixels + 1, stride = planeSize + 1;
            Buffers buf = BUFFERS.get();
            float[] planes = buf.planes((img1 - img0) * stride);
            int[] index = buf.index(offsets, planeSize, c0, c1);
            if (index == null) {
                index = buf.newIndex(offsets, planeSize, c0, c1, taps * cols);
                for (int t = 0; t < taps; t++)
                    for (int col = c0; col < c1; col++) {
                        int img = col / pixels, off = offsets[t * pixels + col - img * pixels];
                        index[t * cols + col - c0] = (img - img0) * stride + (off < 0 ? planeSize : off);
                    }
            }
            int vcols = cols - cols % GemmKernel.L;
            long loaded = -1;
            for (int r = p0; r < p0 + kc; r++) {
                int tap = r % taps * cols, rowBase = base + (r - p0) * nr;
                long channel = xOff + (long) (r / taps) * planeSize;
                if (channel != loaded) {
                    for (int img = img0; img < img1; img++) {
                        int to = (img - img0) * stride;
                        GemmPacking.copyFlushedLoop(x, channel + img * imageStride, planes, to, planeSize);
                        planes[to + planeSize] = 0f;
                    }
                    loaded = channel;
                }
                gatherLoop(planes, index, tap, pb, rowBase, kc, vcols);
                for (int rel = vcols; rel < cols; rel++)
                    pb[rowBase + rel / nr * kc * nr + rel % nr] = planes[index[tap + rel]];
            }
            int used = c1 - c0, tail = used % nr;
            if (tail != 0) {
                int panel = base + used / nr * kc * nr;
                for (int r = 0; r < kc; r++) java.util.Arrays.fill(pb, panel + r * nr + tail, panel + (r + 1) * nr, 0f);
            }
        }
    }
}
