#ifndef GALE_MINMAX_FLOAT
#define GALE_MINMAX_FLOAT
__device__ __forceinline__ float gale_fmaxf(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }
__device__ __forceinline__ float gale_fminf(float a, float b) { return a != a || b != b ? a + b : fminf(a, b); }
#endif

extern "C" __global__ void fused_column_reductions_0(const float* p0, int p0_off, const float* p1, int p1_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off, int n) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 88) return;
    int i0 = gid;
    double acc0 = 0.0;
    float t2 = p1[p1_off + i0];
    for (int r0 = 0; r0 < n; r0++) {
        for (int r1 = 0; r1 < 4; r1++) {
            float t1 = p0[p0_off + r0 * 352 + r1 * 88 + i0];
            float t3 = t1 * t2;
            acc0 = acc0 + (double) t3;
        }
    }
    float t4 = (float) acc0;
    o0[o0_off + i0] = t4;
}

extern "C" __global__ void fused_column_reductions_1(const float* p0, int p0_off, const float* p1, int p1_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off, int n) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 352) return;
    int i0 = gid / 88;
    int i1 = gid % 88;
    float acc0 = -__int_as_float(0x7f800000);
    for (int r0 = 0; r0 < n; r0++) {
        float t1 = p0[p0_off + r0 * 352 + i0 * 88 + i1];
        acc0 = gale_fmaxf(acc0, t1);
    }
    o1[o1_off + i0 * 88 + i1] = acc0;
}

extern "C" __global__ void fused_column_reductions_2(const float* p0, int p0_off, const float* p1, int p1_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off, int n) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 88) return;
    int i0 = gid;
    double acc0 = 0.0;
    float t2 = p1[p1_off + i0];
    for (int r0 = 0; r0 < n; r0++) {
        for (int r1 = 0; r1 < 4; r1++) {
            float t1 = p0[p0_off + r0 * 352 + r1 * 88 + i0];
            float t3 = t1 * t2;
            acc0 = acc0 + (double) t3;
        }
    }
    float t4 = (float) (acc0 / (double) (long long) (n * 4));
    o2[o2_off + i0] = t4;
}
