package dev.gale.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's float32 FMA throughput as it is at the moment of the run: twelve independent chains of vector
 * fused multiply-adds on registers, no memory traffic. Twelve chains cover the FMA latency (4 cycles) on two FMA
 * pipes with room to spare, so the loop runs at (FMA pipes) x (lanes) x 2 flops per cycle at whatever clock the core
 * has now; GEMM figures divided by it in the same run are shares of the peak that do not drift with the clock or with
 * a busy neighbour the way a peak derived from the nominal clock does.
 */
final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Flops of one pass of {@link #run}'s loop body: 12 FMAs of S.length() lanes, 2 flops each. */
    static final int FLOPS_PER_STEP = 12 * 2 * S.length();

    private FmaPeak() {}

    /** {@code steps} passes of 12 FMAs; returns a lane of the result, so that the work cannot be dropped. */
    static float run(long steps, float seed) {
        FloatVector x = FloatVector.broadcast(S, 0.999f), y = FloatVector.broadcast(S, 1e-3f);
        FloatVector c0 = FloatVector.broadcast(S, seed), c1 = c0.add(1f), c2 = c0.add(2f), c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f), c5 = c0.add(5f), c6 = c0.add(6f), c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f), c9 = c0.add(9f), c10 = c0.add(10f), c11 = c0.add(11f);
        for (long i = 0; i < steps; i++) {
            c0 = c0.fma(x, y);
            c1 = c1.fma(x, y);
            c2 = c2.fma(x, y);
            c3 = c3.fma(x, y);
            c4 = c4.fma(x, y);
            c5 = c5.fma(x, y);
            c6 = c6.fma(x, y);
            c7 = c7.fma(x, y);
            c8 = c8.fma(x, y);
            c9 = c9.fma(x, y);
            c10 = c10.fma(x, y);
            c11 = c11.fma(x, y);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).lane(0);
    }
}
