#ifndef GALE_MINMAX_FLOAT
#define GALE_MINMAX_FLOAT
__device__ __forceinline__ float gale_fmaxf(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }
__device__ __forceinline__ float gale_fminf(float a, float b) { return a != a || b != b ? a + b : fminf(a, b); }
#endif

extern "C" __global__ void fused_softmax(const float* p0, int p0_off, float* o0, int o0_off, int n) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= n) return;
    int i0 = gid;
    float acc1 = -__int_as_float(0x7f800000);
    for (int r0 = 0; r0 < 10; r0++) {
        float t2 = p0[p0_off + i0 * 10 + r0];
        acc1 = gale_fmaxf(acc1, t2);
    }
    double acc5 = 0.0;
    for (int r1 = 0; r1 < 10; r1++) {
        float t6 = p0[p0_off + i0 * 10 + r1];
        float t7 = t6 - acc1;
        float t8 = expf(t7);
        acc5 = acc5 + (double) t8;
    }
    float t9 = (float) acc5;
    for (int i1 = 0; i1 < 10; i1++) {
        float t0 = p0[p0_off + i0 * 10 + i1];
        float t3 = t0 - acc1;
        float t4 = expf(t3);
        float t10 = t4 / t9;
        o0[o0_off + i0 * 10 + i1] = t10;
    }
}
