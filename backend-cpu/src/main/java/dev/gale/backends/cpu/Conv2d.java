package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * NCHW convolution by im2col and {@link Sgemm}'s blocked kernel, forward and backward. With {@code Cg = C / groups},
 * {@code Mg = M / groups}, {@code K = Cg kh kw} and {@code P = oh ow}, for image n and group g:
 * <pre>
 * forward       Y[n, g] (Mg x P)  = W[g] (Mg x K) x col(X[n, g]) (K x P), then the epilogue
 * input grad    dX[n, g]          = col2im(W[g]^T (K x Mg) x dY[n, g] (Mg x P))
 * weight grad   dW[g] (Mg x K)    = sum over n of dY[n, g] (Mg x P) x col(X[n, g])^T (P x K)
 * </pre>
 * The column matrix is never built whole: each task unfolds a chunk of output pixels (or, for the gradients, of
 * input channels) into its own scratch and multiplies it at once, so memory stays bounded and the unfolding runs in
 * parallel. Tasks write disjoint parts of the output: pixel ranges (forward), input-channel ranges, whose col2im
 * touches only their own planes (input gradient), and weight blocks (weight gradient). A 1x1 unit-stride unpadded
 * convolution multiplies the input in place.
 */
public final class Conv2d {
    /** Outputs of fewer pixels an image than this (four B panels) take {@link #forwardImages}. */
    static final int IMAGES_MAX_PIXELS = 4 * GemmKernel.NR;
    /**
     * Outputs of at most this many pixels an image take {@link #backwardWeightImages}. ResNet-18's 128-channel layer
     * (8 x 8 pixels, batch 8) took 1.73 ms a training step image by image and 1.2 ms this way
     * ({@code ConvBench.backwardWeight -p layer=r18l2}, warm: 104 against 135 GFLOP/s); its 7x7 stem (32 x 32
     * pixels) ran at half the speed this way (44 against 88 GFLOP/s).
     */
    static final int WEIGHT_IMAGES_MAX_PIXELS = 64;
    /**
     * Outputs of at most this many pixels an image take {@link #backwardInputImages} (unless the direct loops take
     * them). Since its fold became a gather ({@link #foldPlanes}), ResNet-18's stride-2 128-channel layer (16 x 16
     * to 8 x 8, batch 8) took 0.61 ms a training step this way against 0.82 image by image.
     */
    static final int INPUT_IMAGES_MAX_PIXELS = 64;
    /** Largest column chunk a task unfolds, in floats (4 MiB). */
    static final int MAX_COL = 1 << 20;
    /** Largest block of dX planes a task folds in its heap buffer at once, in floats (4 MiB), unless one plane is larger. */
    static final int MAX_FOLD = 1 << 20;

    private Conv2d() {}

    /**
     * The shapes of a grouped 2-D convolution: X [n, c, h, w], W [m, c / groups, kh, kw], Y [n, m, oh, ow].
     */
    public record Shape(int n, int c, int m, int groups, Window2d window) {
        public Shape {
            if (n < 0 || c < 1 || m < 1 || groups < 1 || c % groups != 0 || m % groups != 0)
                throw new IllegalArgumentException("bad convolution shape: n " + n + ", c " + c + ", m " + m
                        + ", groups " + groups + " (c and m must be multiples of groups)");
        }

        int cg() { return c / groups; }

        int mg() { return m / groups; }

        /** K, the depth of the product: one group's input channels times the kernel size. */
        int k() { return cg() * window.kernelSize(); }

        int p() { return window.outSize(); }

        long xSize() { return (long) n * c * window.inSize(); }

        long wSize() { return (long) m * k(); }

        long ySize() { return (long) n * m * p(); }
    }

    /**
     * Y = act(conv(X, W) + bias + residual): the epilogue's bias is per row (one value per output channel, offset to
     * channel 0) and its residual is shaped like Y with {@code ldr = oh * ow}. Element offsets as in {@link Sgemm}.
     */
    public static void forward(KernelPool pool, Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                               MemorySegment y, long yOff, Epilogue ep) {
        forward(pool, s, x, xOff, w, wOff, y, yOff, ep, true, null);
    }

    /**
     * {@link #forward} with W also packed ahead ({@link #packWeights}, from the same W; null to pack it here): the
     * products then read W's panels as they are.
     */
    public static void forward(KernelPool pool, Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                               MemorySegment y, long yOff, Epilogue ep, PackedWeights packed) {
        forward(pool, s, x, xOff, w, wOff, y, yOff, ep, true, packed);
    }

    /**
     * A convolution's constant weights packed once: for its im2col products (one packed A per group), or for
     * {@link FlatConv} (its blocks of output channels).
     */
    public static final class PackedWeights {
        final GemmKernel.PackedA[] groups;
        final float[] flat;

        private PackedWeights(GemmKernel.PackedA[] groups, float[] flat) {
            this.groups = groups;
            this.flat = flat;
        }
    }

    /**
     * W packed for {@link #forward} (for a convolution whose weights do not change between runs), or null when the
     * direct loops serve the shape (they read W as it is). Packing W was most of the time of late CNN layers, whose
     * W is large and whose outputs are few: a ResNet-18 block of 512 channels on 2 x 2 pixels at batch 8 spent a third
     * of its time transposing W into panels, on every run.
     */
    public static PackedWeights packWeights(Shape s, MemorySegment w, long wOff) { return packWeights(s, w, wOff, false); }

    /**
     * The same, saying whether W comes from memory on every run ({@code streams}: it is part of weights larger than
     * the last-level cache, {@link PackedB#streams}): a large W packed for im2col products is then read into L2 a
     * block at a time before each block's multiply ({@link ReadAhead}).
     */
    public static PackedWeights packWeights(Shape s, MemorySegment w, long wOff, boolean streams) {
        if (DirectConv.preferred(s) || s.n() == 0 || s.p() == 0) return null;
        Segments.checkRange("W", w, wOff, s.wSize());
        if (FlatConv.appliesForward(s)) return new PackedWeights(null, FlatConv.pack(s, w, wOff));
        int mg = s.mg(), k = s.k();
        // Blocks of about a quarter of the rows, so that the product over several images splits among 2 threads twice.
        int mc = Math.min(GemmKernel.MC, GemmKernel.roundUp(ceilDiv(mg, 4), GemmKernel.MR));
        GemmKernel.PackedA[] groups = new GemmKernel.PackedA[s.groups()];
        for (int grp = 0; grp < groups.length; grp++)
            groups[grp] = GemmKernel.PackedA.pack(false, w, wOff + (long) grp * mg * k, k, mg, k, mc, streams);
        return new PackedWeights(groups, null);
    }

    /** {@link #forward}; {@code direct} false keeps to im2col + GEMM (tests compare both). */
    static void forward(KernelPool pool, Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment y, long yOff, Epilogue ep, boolean direct) {
        forward(pool, s, x, xOff, w, wOff, y, yOff, ep, direct, null);
    }

    private static void forward(KernelPool pool, Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                                MemorySegment y, long yOff, Epilogue ep, boolean direct, PackedWeights packedAhead) {
        checkAll(pool, s, x, xOff, w, wOff, y, yOff);
        pool.checkAccess("the bias", ep.bias());
        pool.checkAccess("the residual", ep.residual());
        if (ep.bias() != null) {
            if (!ep.biasPerRow()) throw new IllegalArgumentException("a convolution's bias is per output channel (row bias)");
            Segments.checkRange("bias", ep.bias(), ep.biasOffset(), s.m());
        }
        if (ep.residual() != null) {
            if (ep.ldr() != s.p())
                throw new IllegalArgumentException("the residual's ldr must be oh * ow = " + s.p() + ", got " + ep.ldr());
            Segments.checkRange("residual", ep.residual(), ep.residualOffset(), s.ySize());
        }
        if (s.n() == 0 || s.p() == 0) return;
        if (direct && DirectConv.preferred(s)) {
            DirectConv.forward(pool, s, x, xOff, w, wOff, y, yOff, ep, null, false);
            return;
        }
        boolean packedFlat = packedAhead != null && packedAhead.flat != null;
        if (direct && FlatConv.appliesForward(s) && (packedFlat || FlatConv.repaysPacking(s))) {
            FlatConv.forward(pool, s, x, xOff, w, wOff, packedAhead == null ? null : packedAhead.flat, y, yOff, ep);
            return;
        }
        // FlatConv's packing, with direct false (tests): im2col packs W itself
        PackedWeights packed = packedAhead != null && packedAhead.groups == null ? null : packedAhead;
        if (s.p() < IMAGES_MAX_PIXELS) {
            forwardImages(pool, s, x, xOff, w, wOff, y, yOff, ep, packed);
            return;
        }
        Window2d g = s.window();
        int k = s.k(), p = s.p(), mg = s.mg(), cg = s.cg();
        boolean pointwise = g.isPointwise();
        int chunk = chunk(pool, p, s.n() * s.groups());
        int chunks = (p + chunk - 1) / chunk, perImage = s.groups() * chunks;
        pool.parallelFor(s.n() * perImage, (task, scratch) -> {
            int img = task / perImage, grp = task % perImage / chunks, p0 = task % chunks * chunk, p1 = Math.min(p, p0 + chunk);
            long xImg = xOff + ((long) img * s.c() + (long) grp * cg) * g.inSize();
            // The column matrix is unfolded straight into the GEMM's B panels (or is X itself for a 1x1 convolution).
            PanelSource b = pointwise ? new PanelSource.Matrix(false, x, xImg + p0, g.inSize())
                    : new PanelSource.Unfolded(g, x, xImg);
            long yAt = ((long) img * s.m() + (long) grp * mg) * p + p0;
            PanelSource cols = pointwise ? b : new Shifted(b, p0);
            Epilogue e = ep.shifted((long) grp * mg, yAt);
            if (packed != null) GemmKernel.gemm(scratch, packed.groups[grp], p1 - p0, 1f, cols, 0f, y, yOff + yAt, p, e);
            else GemmKernel.gemm(scratch, false, mg, p1 - p0, k, 1f, w, wOff + (long) grp * mg * k, k, cols, 0f, y,
                    yOff + yAt, p, e);
        });
    }

    /**
     * The forward of a convolution with small outputs (fewer than {@link #IMAGES_MAX_PIXELS} pixels an image, the
     * late layers of a CNN): per group, one product over the pixels of many images side by side
     * ({@link PanelSource.Images}), its rows (output channels) split among the threads, into the pool's shared buffer;
     * the epilogue then writes each (image, channel) row of Y from it. Image by image, each product had only a few
     * pixels for 32-wide panels and packed all of W again: a ResNet-18 block of 512 channels on 2 x 2 pixels at
     * batch 8 ran at 15 GFLOP/s.
     */
    private static void forwardImages(KernelPool pool, Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                                      MemorySegment y, long yOff, Epilogue ep, PackedWeights packed) {
        Window2d g = s.window();
        int k = s.k(), p = s.p(), mg = s.mg(), cg = s.cg(), n = s.n();
        // Images per product: the buffer holds at most MAX_COL floats (one image at least).
        int images = Math.max(1, Math.min(n, MAX_COL / Math.max(1, mg * p)));
        long imageStride = (long) s.c() * g.inSize();
        PanelSource.Images unfolded = PanelSource.Images.of(g, x, xOff, imageStride);
        pool.exclusive(() -> {
            float[] tmp = pool.sharedResult(Math.multiplyExact(mg, images * p));
            MemorySegment t = MemorySegment.ofArray(tmp);
            for (int grp = 0; grp < s.groups(); grp++) {
                for (int img0 = 0; img0 < n; img0 += images) {
                    int first = img0, count = Math.min(images, n - img0), cols = count * p, group = grp;
                    PanelSource b = unfolded.from(xOff + (long) img0 * imageStride + (long) grp * cg * g.inSize());
                    if (packed != null) productOfPacked(pool, packed.groups[grp], cols, b, t, 0, cols);
                    else Sgemm.sharedPacking(pool, false, mg, cols, k, 1f, w, wOff + (long) grp * mg * k, k, b, 0f, t, 0,
                            cols, Epilogue.NONE);
                    int rows = count * mg, parts = Math.min(rows, 2 * pool.threads());
                    pool.parallelFor(parts, (task, scratch) -> {
                        for (int row = (int) ((long) task * rows / parts), end = (int) ((long) (task + 1) * rows / parts); row < end; row++) {
                            int i = row / mg, m = row % mg, channel = group * mg + m;
                            long yAt = ((long) (first + i) * s.m() + channel) * p;
                            epilogueRow(tmp, m * cols + i * p, p, ep, channel, yAt, y, yOff);
                        }
                    });
                }
            }
        });
    }

    /**
     * C[m x n] = A B for a packed A and B's panels from {@code b} (within {@link KernelPool#exclusive}): for each NC
     * columns, all of B's KC blocks packed at once by all the threads into the pool's shared buffer (a task per block
     * and group of panels: the products of a few images have only one or two panels), then A's row blocks multiplied
     * by them, a block a task; two waits in all, not two per KC block.
     */
    private static void productOfPacked(KernelPool pool, GemmKernel.PackedA a, int n, PanelSource b, MemorySegment c,
                                        long cOff, long ldc) {
        int m = a.m(), k = a.k(), nr = GemmKernel.NR, kc = GemmKernel.KC;
        GemmKernel.Blocks bl = a.blocks();
        int mBlocks = ceilDiv(m, bl.mc()), kBlocks = Math.max(1, ceilDiv(k, kc));
        for (int jc = 0; jc < n; jc += GemmKernel.NC) {
            int nc = Math.min(GemmKernel.NC, n - jc), panels = ceilDiv(nc, nr), width = panels * nr, j0 = jc;
            float[] pb = pool.sharedFloats(Math.multiplyExact(Math.max(1, k), width));
            int groups = Math.max(1, Math.min(panels, ceilDiv(2 * pool.threads(), kBlocks)));
            pool.parallelFor(kBlocks * groups, (t, s) -> {
                int pc = t / groups * kc, g = t % groups;
                int jr0 = (int) ((long) g * panels / groups) * nr, jr1 = (int) ((long) (g + 1) * panels / groups) * nr;
                b.pack(pc, Math.min(kc, k - pc), j0, nc, jr0, Math.min(nc, jr1), pb, pc * width);
            });
            pool.parallelFor(mBlocks, (t, s) -> {
                int i0 = t * bl.mc(), i1 = Math.min(m, i0 + bl.mc());
                GemmKernel.multiplyPacked(s, false, null, 0, 0, a, i0, i1, 0, k, k, bl, pb, j0, nc, 0, nc, 1f, 0f,
                        Epilogue.NONE, c, cOff, ldc, false);
            });
        }
    }

    /**
     * Y[yOff + yAt, + n) = act(row + bias[channel] + residual[yAt, + n)), the epilogue of one (image, channel) row,
     * computed in place in {@code row[at, at + n)}.
     */
    private static void epilogueRow(float[] row, int at, int n, Epilogue ep, int channel, long yAt, MemorySegment y,
                                    long yOff) {
        if (ep.bias() != null) {
            float b = ep.bias().getAtIndex(GemmPacking.F, ep.biasOffset() + channel);
            for (int i = 0; i < n; i++) row[at + i] += b;
        }
        if (ep.residual() != null)
            for (int i = 0; i < n; i++) row[at + i] += ep.residual().getAtIndex(GemmPacking.F, ep.residualOffset() + yAt + i);
        ep.activation().apply(row, at, n);
        MemorySegment.copy(row, at, y, GemmPacking.F, (yOff + yAt) * Float.BYTES, n);
    }

    /**
     * Y = max ({@code max}) or average pooling of act(conv(X, W) + bias) over {@code ph x pw} windows side by side
     * (stride = window, unpadded, floor mode): Y is [n, m, oh / ph, ow / pw], and the epilogue has no residual. Where
     * the direct loops apply, each task pools the block of channels it has just convolved, from its own scratch,
     * while the block is in cache; otherwise the whole convolution goes to {@code tmp} (at least n m oh ow floats;
     * may be null when {@link #poolsInPlace} is true) and is pooled from there.
     */
    public static void forwardPooled(KernelPool pool, Shape s, boolean max, int ph, int pw, MemorySegment x, long xOff,
                                     MemorySegment w, long wOff, MemorySegment y, long yOff, Epilogue ep,
                                     MemorySegment tmp) {
        forwardPooled(pool, s, max, ph, pw, x, xOff, w, wOff, y, yOff, ep, tmp, true);
    }

    /** Whether {@link #forwardPooled} pools each task's block itself, without a whole-size {@code tmp}. */
    public static boolean poolsInPlace(Shape s) { return DirectConv.preferred(s); }

    /** {@link #forwardPooled}; {@code direct} false convolves whole into tmp (tests compare both). */
    static void forwardPooled(KernelPool pool, Shape s, boolean max, int ph, int pw, MemorySegment x, long xOff,
                              MemorySegment w, long wOff, MemorySegment y, long yOff, Epilogue ep, MemorySegment tmp,
                              boolean direct) {
        Window2d g = s.window();
        if (ph < 1 || pw < 1 || g.oh() < ph || g.ow() < pw)
            throw new IllegalArgumentException("a " + ph + " x " + pw + " pooling does not fit the convolution's "
                    + g.oh() + " x " + g.ow() + " result");
        if (ep.residual() != null) throw new IllegalArgumentException("a pooled convolution takes no residual");
        Window2d pooling = Window2d.of(g.oh(), g.ow(), ph, pw, ph, pw, 1, 1, 0, 0, 0, 0);
        if (direct && DirectConv.preferred(s)) {
            pool.checkAccess("X", x);
            pool.checkAccess("W", w);
            pool.checkAccess("Y", y);
            pool.checkAccess("the bias", ep.bias());
            Segments.checkRange("X", x, xOff, s.xSize());
            Segments.checkRange("W", w, wOff, s.wSize());
            Segments.checkRange("Y", y, yOff, (long) s.n() * s.m() * pooling.outSize());
            if (ep.bias() != null) Segments.checkRange("bias", ep.bias(), ep.biasOffset(), s.m());
            if (s.n() > 0) DirectConv.forward(pool, s, x, xOff, w, wOff, y, yOff, ep, pooling, max);
            return;
        }
        if (tmp == null) throw new IllegalArgumentException("this convolution needs a scratch of " + s.ySize() + " floats to pool from");
        forward(pool, s, x, xOff, w, wOff, tmp, 0, ep, direct);
        if (max) Pool2d.maxForward(pool, s.n() * s.m(), pooling, tmp, 0, y, yOff);
        else Pool2d.averageForward(pool, s.n() * s.m(), pooling, false, tmp, 0, y, yOff);
    }

    /** A panel source seen from column {@code shift} on (a task's first output pixel). */
    private record Shifted(PanelSource inner, int shift) implements PanelSource {
        @Override
        public void pack(int p0, int kc, int j0, int nc, int jr0, int jr1, float[] pb, int at) {
            inner.pack(p0, kc, j0 + shift, nc, jr0, jr1, pb, at);
        }
    }

    /** dX from dY and W (overwritten, not accumulated). */
    public static void backwardInput(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                                     MemorySegment dx, long dxOff) {
        backwardInput(pool, s, dy, dyOff, w, wOff, dx, dxOff, true);
    }

    /** {@link #backwardInput}; {@code direct} false keeps to GEMM + col2im. */
    static void backwardInput(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                              MemorySegment dx, long dxOff, boolean direct) {
        backwardInput(pool, s, dy, dyOff, w, wOff, dx, dxOff, direct, MAX_FOLD);
    }

    /** {@link #backwardInput} folding at most {@code maxFold} floats of planes at once (tests use one plane). */
    static void backwardInput(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                              MemorySegment dx, long dxOff, boolean direct, int maxFold) {
        checkAll(pool, s, dx, dxOff, w, wOff, dy, dyOff);
        if (s.n() == 0) return;
        if (direct && DirectConv.preferred(s)) {
            DirectConv.backwardInput(pool, s, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        if (direct && FlatConv.applies(s) && FlatConv.repaysPacking(s)) {
            FlatConv.backwardInput(pool, s, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        if (s.p() > 0 && s.p() <= INPUT_IMAGES_MAX_PIXELS) {
            backwardInputImages(pool, s, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        Window2d g = s.window();
        int khw = g.kernelSize(), k = s.k(), p = s.p(), mg = s.mg(), cg = s.cg();
        int tasksPerGroup = Math.min(cg, Math.max(1, ceilDiv(2 * pool.threads(), s.n() * s.groups())));
        int perImage = s.groups() * tasksPerGroup;
        pool.parallelFor(s.n() * perImage, (task, scratch) -> {
            int img = task / perImage, grp = task % perImage / tasksPerGroup, part = task % tasksPerGroup;
            int c0 = (int) ((long) part * cg / tasksPerGroup), c1 = (int) ((long) (part + 1) * cg / tasksPerGroup);
            long xImg = dxOff + ((long) img * s.c() + (long) grp * cg) * g.inSize();
            long dyImg = dyOff + ((long) img * s.m() + (long) grp * mg) * p;
            // The task's channels fold in a heap buffer, copied out at the end: in blocks of at most maxFold floats
            // (one plane at least), each block its own product W^T dY for its rows.
            int block = Math.max(1, Math.min(c1 - c0, maxFold / Math.max(1, g.inSize())));
            for (int b0 = c0; b0 < c1; b0 += block) {
                int b1 = Math.min(c1, b0 + block), planes = (b1 - b0) * g.inSize();
                float[] acc = scratch.fold(planes);
                Arrays.fill(acc, 0, planes, 0f);
                int rows = (b1 - b0) * khw;
                int chunk = Math.max(GemmKernel.NR, Math.min(p, MAX_COL / rows / GemmKernel.NR * GemmKernel.NR));
                for (int p0 = 0; p0 < p; p0 += chunk) {
                    int p1 = Math.min(p, p0 + chunk);
                    float[] col = scratch.work((long) rows * (p1 - p0));
                    GemmKernel.gemm(scratch, true, false, rows, p1 - p0, mg, 1f, w, wOff + (long) grp * mg * k + (long) b0 * khw,
                            k, dy, dyImg + p0, p, 0f, scratch.workSegment(), 0, p1 - p0, Epilogue.NONE);
                    Im2col.col2imAdd(g, col, p1 - p0, b0, b1, p0, p1, acc);
                }
                MemorySegment.copy(acc, 0, dx, GemmPacking.F, (xImg + (long) b0 * g.inSize()) * Float.BYTES, planes);
            }
        });
    }

    /**
     * Gathers group {@code grp}'s channels of dY for images {@code [first, first + count)} into one
     * {@code mg x (count * p)} matrix at {@code buf[at ..)}: row m holds channel m of each image in turn.
     */
    private static void gatherImages(Shape s, MemorySegment dy, long dyOff, int grp, int first, int count, float[] buf,
                                     int at) {
        int p = s.p(), mg = s.mg(), cols = count * p;
        for (int i = 0; i < count; i++)
            for (int m = 0; m < mg; m++)
                MemorySegment.copy(dy, GemmPacking.F, (dyOff + ((long) (first + i) * s.m() + (long) grp * mg + m) * p) * Float.BYTES,
                        buf, at + m * cols + i * p, p);
    }

    /**
     * The input gradient of a convolution with outputs of at most {@link #INPUT_IMAGES_MAX_PIXELS} pixels an image (the last
     * layers of a CNN): per group, one product over many images' pixels side by side (dY gathered into one matrix,
     * then the column gradients of all of them from one multi-threaded product that reads W once), then each (image,
     * channel range) folded back into dX by its own task. The product is the column gradients transposed,
     * {@code dY^T W} (pixels x columns), not {@code W^T dY}: W is then B, packed row by row, each of its rows read from
     * start to end, where as A^T each panel read one line from each of kc rows a row apart, every one a miss of its
     * own once W is out of the cache: 2 x 2 pixels at batch 8, with a 256 MiB buffer written between runs, a
     * 512-channel 3 x 3 layer took 2.3 ms against 3.2, a 256-channel one on 4 x 4 pixels 1.8 against 2.6 (with W in
     * the cache both alike, 1.5 and 1.4 ms). Image by image, each product packed all of W again for a few pixels:
     * a 512-channel 3 x 3 layer on 2 x 2 pixels at batch 8 took 13.7-17.7 ms, against 5.0-6.8 this way (2 threads). With 64 pixels an
     * image (8 x 8, 128 channels) this way first measured slower (4.8-6.3 ms against 3.0-5.8). With 16
     * (4 x 4, 256 channels, batch 8) it first measured alike (3.5-7.3 against 5.8-8.7); once the shared packing
     * improved, 1.19-1.21 ms against 1.87-1.93 (and 5 x 5: 1.67 against 2.10), so the bound went from 16 pixels to 32,
     * and to 64 ({@link #INPUT_IMAGES_MAX_PIXELS}) once the fold was a gather.
     */
    private static void backwardInputImages(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment w,
                                            long wOff, MemorySegment dx, long dxOff) {
        Window2d g = s.window();
        int k = s.k(), p = s.p(), mg = s.mg(), cg = s.cg(), n = s.n(), khw = g.kernelSize(), hw = g.inSize();
        // Images per product: their column gradients (k x cols) and dY (mg x cols) fit MAX_COL floats (one at least).
        int images = Math.max(1, Math.min(n, MAX_COL / Math.max(1, (k + mg) * p)));
        int[][] fold = WindowTables.fold(g, k);
        pool.exclusive(() -> {
            float[] buf = pool.sharedResult(Math.multiplyExact(k + mg, images * p));
            MemorySegment b = MemorySegment.ofArray(buf);
            for (int grp = 0; grp < s.groups(); grp++) {
                for (int img0 = 0; img0 < n; img0 += images) {
                    int first = img0, count = Math.min(images, n - img0), cols = count * p, group = grp, dyAt = k * cols;
                    gatherImages(s, dy, dyOff, grp, first, count, buf, dyAt);
                    Sgemm.gemm(pool, true, false, cols, k, mg, 1f, b, dyAt, cols, w, wOff + (long) grp * mg * k, k, 0f, b,
                            0, k, Epilogue.NONE);
                    int cParts = Math.min(cg, Math.max(1, ceilDiv(2 * pool.threads(), count)));
                    pool.parallelFor(count * cParts, (t, scratch) -> {
                        int i = t / cParts, part = t % cParts;
                        int c0 = (int) ((long) part * cg / cParts), c1 = (int) ((long) (part + 1) * cg / cParts);
                        if (c0 >= c1) return;
                        int planes = (c1 - c0) * hw;
                        float[] acc = scratch.fold(planes);
                        foldPlanes(buf, i * p * k + c0 * khw, khw, c1 - c0, hw, fold, acc);
                        MemorySegment.copy(acc, 0, dx, GemmPacking.F,
                                (dxOff + ((long) (first + i) * s.c() + (long) group * cg + c0) * hw) * Float.BYTES, planes);
                    });
                }
            }
        });
    }

    /**
     * The fold of column gradients laid out a row per output pixel ({@code k} floats: input channel, then tap) back
     * into input planes, as gathers: {@code fold[0][j] .. fold[0][j + 1]} index the entries of {@code fold[1]}, the
     * offsets {@code q * k + t} (output pixel q, tap t of channel 0) of the gradients that input element j of a
     * plane receives, in the order of q then t.
     */
    static int[][] foldIndex(Window2d g, int k) {
        int p = g.outSize(), taps = g.kernelSize(), hw = g.inSize();
        int[] offsets = WindowTables.tapOffsets(g), start = new int[hw + 1];
        for (int off : offsets) if (off >= 0) start[off + 1]++;
        for (int j = 0; j < hw; j++) start[j + 1] += start[j];
        int[] rel = new int[start[hw]], next = Arrays.copyOf(start, hw);
        for (int q = 0; q < p; q++)
            for (int t = 0; t < taps; t++) {
                int off = offsets[t * p + q];
                if (off >= 0) rel[next[off]++] = q * k + t;
            }
        return new int[][] {start, rel};
    }

    /**
     * {@code acc[c * hw + j]} for {@code channels} channels: the sum of the column gradients (rows of {@code k}
     * floats a pixel from {@code at}, channel c's taps from {@code c * taps}) that input element j met
     * ({@link #foldIndex}). A gather per input element, each written once: the transpose into a column matrix and
     * {@code col2imAdd}'s runs, which it replaces, were 28% of a 512-channel layer's input gradient on 2 x 2 pixels
     * (batch 8, 2 threads; {@code ConvBench.backwardInput -p layer=r18l4}).
     */
    private static void foldPlanes(float[] cols, int at, int taps, int channels, int hw, int[][] fold, float[] acc) {
        int[] start = fold[0], rel = fold[1];
        for (int c = 0; c < channels; c++) {
            int base = at + c * taps, out = c * hw;
            for (int j = 0; j < hw; j++) {
                float sum = 0f;
                for (int e = start[j], end = start[j + 1]; e < end; e++) sum += cols[base + rel[e]];
                acc[out + j] = sum;
            }
        }
    }

    /** dW from dY and X (overwritten, not accumulated). */
    public static void backwardWeight(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment x, long xOff,
                                      MemorySegment dw, long dwOff) {
        backwardWeight(pool, s, dy, dyOff, x, xOff, dw, dwOff, true);
    }

    /** {@link #backwardWeight}; {@code direct} false keeps to im2col + GEMM. */
    static void backwardWeight(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment x, long xOff,
                               MemorySegment dw, long dwOff, boolean direct) {
        checkAll(pool, s, x, xOff, dw, dwOff, dy, dyOff);
        if (direct && s.n() > 0 && (DirectConv.preferred(s) || directWeightGradient(s))
                && DirectConv.backwardWeight(pool, s, dy, dyOff, x, xOff, dw, dwOff))
            return;
        if (s.n() > 1 && s.p() > 0 && s.p() <= WEIGHT_IMAGES_MAX_PIXELS && !s.window().isPointwise()) {
            backwardWeightImages(pool, s, dy, dyOff, x, xOff, dw, dwOff);
            return;
        }
        Window2d g = s.window();
        int k = s.k(), mg = s.mg(), cg = s.cg();
        // Pieces: input-channel ranges (columns of dW) first, then output-channel ranges (rows).
        int want = Math.max(1, ceilDiv(2 * pool.threads(), s.groups()));
        int cSplit = Math.min(cg, want), mSplit = Math.min(ceilDiv(mg, GemmKernel.MR), Math.max(1, want / cSplit));
        // Channel pieces narrower than two B panels waste most of each panel: share out the images instead.
        boolean byImages = ceilDiv(cg, cSplit) * g.kernelSize() < 2 * GemmKernel.NR && s.n() >= want
                && pool.threads() > 1;
        int cParts = byImages ? 1 : cSplit, mParts = byImages ? 1 : mSplit;
        int perGroup = cParts * mParts;
        // Too few pieces for the threads (one input channel, few output channels): the images are shared out too,
        // each share summed into its own copy of dW, and the copies added in a fixed order (deterministic).
        int iParts = pool.threads() == 1 || s.n() < 2 ? 1 : Math.min(s.n(), want / perGroup);
        long size = s.wSize();
        if (iParts <= 1 || size * iParts > Integer.MAX_VALUE - 16) {
            pool.parallelFor(s.groups() * perGroup, (task, scratch) ->
                    weightPiece(scratch, s, task, cParts, mParts, 0, s.n(), dy, dyOff, x, xOff, dw, dwOff));
            return;
        }
        pool.exclusive(() -> {
            MemorySegment parts = MemorySegment.ofArray(pool.sharedFloats((int) (size * iParts)));
            int pieces = s.groups() * perGroup;
            pool.parallelFor(pieces * iParts, (task, scratch) -> {
                int ip = task / pieces;
                int i0 = (int) ((long) ip * s.n() / iParts), i1 = (int) ((long) (ip + 1) * s.n() / iParts);
                weightPiece(scratch, s, task % pieces, cParts, mParts, i0, i1, dy, dyOff, x, xOff, parts, ip * size);
            });
            int chunks = (int) Math.min(2L * pool.threads(), Math.max(1, size / 4096));
            pool.parallelFor(chunks, (t, scratch) -> {
                long e0 = t * size / chunks, e1 = (t + 1) * size / chunks;
                for (long e = e0; e < e1; e++) {
                    float sum = parts.getAtIndex(GemmPacking.F, e);
                    for (int ip = 1; ip < iParts; ip++) sum += parts.getAtIndex(GemmPacking.F, ip * size + e);
                    dw.setAtIndex(GemmPacking.F, dwOff + e, sum);
                }
            });
        });
    }

    /**
     * True when the direct loops' weight gradient ({@link DirectConv#backwardWeight}) should beat im2col + GEMM beyond
     * the few-channel layers they were made for: {@link FlatConv}'s layers of at most 64 output channels whose rows fill
     * at least 3/4 of their vectors (the direct loops widen each row of dY to whole vectors). Measured on 2 threads
     * (probe /tmp/cf/CF.java -Dmode=dw): 64 channels at 16 x 16, batch 8, 1.10 ms against 1.94; at 32 x 32, batch 4,
     * 2.37 against 3.09; at 56 x 56, batch 1, 1.68 against 2.02; but 128 channels at 28 x 28 1.82 against 1.39, 256 at
     * 14 x 14 3.09 against 1.24, and 128 at 8 x 8 (half of each vector dropped) 2.73 against 1.24.
     */
    private static boolean directWeightGradient(Shape s) {
        int ow = s.window().ow(), width = GemmKernel.roundUp(ow, GemmKernel.L);
        return s.mg() <= 64 && 4L * ow >= 3L * width && DirectConv.supports(s.window()) && FlatConv.applies(s);
    }

    /**
     * The weight gradient of a convolution with small outputs (at most {@link #WEIGHT_IMAGES_MAX_PIXELS} pixels an
     * image, the last layers of a CNN): per group, one product {@code dW = dY U} over many images, where dY of the images is
     * gathered into one {@code mg x (images * pixels)} matrix and U holds, for each of their output pixels, the K
     * inputs it met (the unfolded columns, transposed: a row per pixel). Image by image, each product had a depth of
     * only the image's pixels and read and wrote all of dW again: ResNet-18's 512-channel layers on 2 x 2 pixels at
     * batch 8 spent 6.3-6.6 ms each, rewriting 9.4 MB of dW eight times. Images go in rounds of at most
     * {@link #MAX_COL} gathered floats, each round added to the last (a fixed order: the result does not depend on
     * the thread count).
     */
    private static void backwardWeightImages(KernelPool pool, Shape s, MemorySegment dy, long dyOff, MemorySegment x,
                                             long xOff, MemorySegment dw, long dwOff) {
        Window2d g = s.window();
        int k = s.k(), p = s.p(), mg = s.mg(), cg = s.cg(), n = s.n(), taps = g.kernelSize(), planeSize = g.inSize();
        int images = Math.max(1, Math.min(n, MAX_COL / Math.max(1, (k + mg) * p)));
        long imageStride = (long) s.c() * planeSize;
        int[] tapIndex = WindowTables.padSlots(g);
        pool.exclusive(() -> {
            float[] buf = pool.sharedResult(Math.multiplyExact(k + mg, images * p));
            MemorySegment b = MemorySegment.ofArray(buf);
            for (int grp = 0; grp < s.groups(); grp++) {
                for (int img0 = 0; img0 < n; img0 += images) {
                    int first = img0, count = Math.min(images, n - img0), cols = count * p, uAt = mg * cols;
                    long xGroup = xOff + (long) grp * cg * planeSize;
                    gatherImages(s, dy, dyOff, grp, first, count, buf, 0);
                    int cParts = Math.max(1, Math.min(cg, ceilDiv(4 * pool.threads(), count)));
                    pool.parallelFor(count * cParts, (t, scratch) -> {
                        int i = t / cParts, part = t % cParts;
                        int c0 = (int) ((long) part * cg / cParts), c1 = (int) ((long) (part + 1) * cg / cParts);
                        unfoldRows(x, xGroup + (first + i) * imageStride, c0, c1, planeSize, taps, p, k, tapIndex,
                                scratch.work((long) (c1 - c0) * (planeSize + 1)), buf, uAt + i * p * k);
                    });
                    Sgemm.gemm(pool, false, false, mg, k, cols, 1f, b, 0, cols, b, uAt, k, img0 == 0 ? 0f : 1f, dw,
                            dwOff + (long) grp * mg * k, k, Epilogue.NONE);
                }
            }
        });
    }

    /**
     * {@code index[q * taps + t]}: where tap t of output pixel q reads in a plane copied with one zero after it
     * ({@link #unfoldRows}), i.e. the tap offset, or {@code planeSize} (the zero) in the padding.
     */
    static int[] padSlotIndex(int[] offsets, int taps, int p, int planeSize) {
        int[] index = new int[taps * p];
        for (int t = 0; t < taps; t++)
            for (int q = 0; q < p; q++) index[q * taps + t] = offsets[t * p + q] < 0 ? planeSize : offsets[t * p + q];
        return index;
    }

    /**
     * Rows of U for one image's channels {@code [c0, c1)}: {@code u[at + q * k + c * taps + t]} is the input that tap
     * t of channel c meets at output pixel q. The channels' planes are first copied (flushed) into {@code planes},
     * each followed by a zero for the padding, so that the copy out is a table look-up without a test per element:
     * in ResNet-18's training the element-by-element version, reading the arena and testing for the padding per
     * element, took 5.6% of the step (its 256- and 512-channel layers).
     */
    private static void unfoldRows(MemorySegment x, long image, int c0, int c1, int planeSize, int taps, int p, int k,
                                   int[] index, float[] planes, float[] u, int at) {
        int stride = planeSize + 1;
        for (int c = c0; c < c1; c++) {
            GemmPacking.copyFlushedLoop(x, image + (long) c * planeSize, planes, (c - c0) * stride, planeSize);
            planes[(c - c0) * stride + planeSize] = 0f;
        }
        for (int q = 0; q < p; q++) {
            int row = at + q * k, tap0 = q * taps;
            for (int c = c0; c < c1; c++) {
                int dst = row + c * taps, base = (c - c0) * stride;
                for (int t = 0; t < taps; t++) u[dst + t] = planes[base + index[tap0 + t]];
            }
        }
    }

    /** One piece of dW (a group, input- and output-channel range) summed over images {@code [i0, i1)}. */
    private static void weightPiece(Scratch scratch, Shape s, int task, int cParts, int mParts, int i0, int i1,
                                    MemorySegment dy, long dyOff, MemorySegment x, long xOff, MemorySegment dw,
                                    long dwOff) {
        Window2d g = s.window();
        int khw = g.kernelSize(), k = s.k(), p = s.p(), mg = s.mg(), cg = s.cg();
        boolean pointwise = g.isPointwise();
        int perGroup = cParts * mParts;
        int grp = task / perGroup, cp = task % perGroup / mParts, mp = task % mParts;
        int c0 = (int) ((long) cp * cg / cParts), c1 = (int) ((long) (cp + 1) * cg / cParts);
        int m0 = mp * mg / mParts / GemmKernel.MR * GemmKernel.MR, m1 = mp == mParts - 1 ? mg : (mp + 1) * mg / mParts / GemmKernel.MR * GemmKernel.MR;
        if (c0 == c1 || m0 == m1) return;
        int rows = (c1 - c0) * khw;
        long dwAt = dwOff + ((long) grp * mg + m0) * k + (long) c0 * khw;
        if (i0 >= i1 || p == 0) {
            for (int r = 0; r < m1 - m0; r++) dw.asSlice((dwAt + (long) r * k) * Float.BYTES, (long) rows * Float.BYTES).fill((byte) 0);
            return;
        }
        int chunk = pointwise ? p : Math.max(GemmKernel.NR, Math.min(p, MAX_COL / rows / GemmKernel.NR * GemmKernel.NR));
        boolean first = true;
        for (int img = i0; img < i1; img++) {
            long xImg = xOff + ((long) img * s.c() + (long) grp * cg) * g.inSize();
            long dyAt = dyOff + ((long) img * s.m() + (long) grp * mg + m0) * p;
            for (int p0 = 0; p0 < p; p0 += chunk) {
                int p1 = Math.min(p, p0 + chunk);
                MemorySegment b = x;
                long bOff = xImg + (long) c0 * g.inSize() + p0, ldb = g.inSize();
                if (!pointwise) {
                    float[] col = scratch.work((long) rows * (p1 - p0));
                    Im2col.im2col(g, x, xImg, c0, c1, p0, p1, col, p1 - p0);
                    b = scratch.workSegment();
                    bOff = 0;
                    ldb = p1 - p0;
                }
                GemmKernel.gemm(scratch, false, true, m1 - m0, rows, p1 - p0, 1f, dy, dyAt + p0, p, b, bOff, ldb,
                        first ? 0f : 1f, dw, dwAt, k, Epilogue.NONE);
                first = false;
            }
        }
    }

    /** Output pixels per forward task: two tasks per thread, each at least a few NR-wide panels. */
    private static int chunk(KernelPool pool, int p, int units) {
        int perUnit = Math.max(1, ceilDiv(2 * pool.threads(), units));
        return Math.min(p, Math.max(4 * GemmKernel.NR, GemmKernel.roundUp(ceilDiv(p, perUnit), GemmKernel.NR)));
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    private static void checkAll(KernelPool pool, Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                                 MemorySegment y, long yOff) {
        pool.checkAccess("X", x);
        pool.checkAccess("W", w);
        pool.checkAccess("Y", y);
        Segments.checkRange("X", x, xOff, s.xSize());
        Segments.checkRange("W", w, wOff, s.wSize());
        Segments.checkRange("Y", y, yOff, s.ySize());
    }
}
