#ifndef GALE_MINMAX_FLOAT
#define GALE_MINMAX_FLOAT
__device__ __forceinline__ float gale_fmaxf(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }
__device__ __forceinline__ float gale_fminf(float a, float b) { return a != a || b != b ? a + b : fminf(a, b); }
#endif

extern "C" __global__ void fused_softmax_op(const float* p0, int p0_off, float* o0, int o0_off, float* o1, int o1_off, int b) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= b * 4) return;
    int i0 = gid / 4;
    int i1 = gid % 4;
    float acc0 = -__int_as_float(0x7f800000);
    for (int r0 = 0; r0 < 33; r0++) {
        float t1 = p0[p0_off + i0 * 132 + i1 * 33 + r0];
        acc0 = gale_fmaxf(acc0, t1);
    }
    double acc2 = 0.0;
    for (int r1 = 0; r1 < 33; r1++) {
        float t3 = p0[p0_off + i0 * 132 + i1 * 33 + r1];
        acc2 = acc2 + (double) expf(t3 - acc0);
    }
    float t6 = (float) acc2;
    for (int i2 = 0; i2 < 33; i2++) {
        float t4 = p0[p0_off + i0 * 132 + i1 * 33 + i2];
        float t5 = t4 - acc0;
        float t7 = expf(t5) / t6;
        o0[o0_off + i0 * 132 + i1 * 33 + i2] = t7;
        float acc8 = -__int_as_float(0x7f800000);
        for (int r2 = 0; r2 < 4; r2++) {
            float t9 = p0[p0_off + i0 * 132 + r2 * 33 + i2];
            acc8 = gale_fmaxf(acc8, t9);
        }
        double acc10 = 0.0;
        for (int r3 = 0; r3 < 4; r3++) {
            float t11 = p0[p0_off + i0 * 132 + r3 * 33 + i2];
            acc10 = acc10 + (double) expf(t11 - acc8);
        }
        float t12 = t4 - acc8;
        float t13 = (float) log(acc10);
        float t14 = t12 - t13;
        o1[o1_off + i0 * 132 + i1 * 33 + i2] = t14;
    }
}
