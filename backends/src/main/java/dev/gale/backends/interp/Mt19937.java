package dev.gale.backends.interp;

/**
 * The 32-bit Mersenne Twister seeded the way numpy's legacy {@code np.random.seed(int)} seeds it, with numpy's
 * 53-bit {@code random_sample}. Kernels whose ONNX {@code seed} attribute is set use it, so their random draws are
 * the ones the ONNX reference implementation (numpy) makes for the same seed.
 */
final class Mt19937 {
    private static final int N = 624, M = 397;
    private final int[] mt = new int[N];
    private int pos;

    Mt19937(long seed) {
        int s = (int) seed;
        for (int i = 0; i < N; i++) {
            mt[i] = s;
            s = 1812433253 * (s ^ (s >>> 30)) + i + 1;
        }
        pos = N;
    }

    int nextInt() {
        if (pos >= N) twist();
        int y = mt[pos++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** Uniform in [0, 1) with 53 random bits: numpy's {@code random_sample}. */
    double nextDouble() {
        long a = (nextInt() & 0xffffffffL) >>> 5, b = (nextInt() & 0xffffffffL) >>> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
            mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
        }
        pos = 0;
    }
}
