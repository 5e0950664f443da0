#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#ifndef GALE_MINMAX_FLOAT
#define GALE_MINMAX_FLOAT
static inline float gale_fmaxf(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }
static inline float gale_fminf(float a, float b) { return a != a || b != b ? a + b : fminf(a, b); }
#endif

__kernel void fused_column_reductions_0(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global float* o0, int o0_off, __global float* o1, int o1_off, __global float* o2, int o2_off, int n) {
    int gid = get_global_id(0);
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

__kernel void fused_column_reductions_1(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global float* o0, int o0_off, __global float* o1, int o1_off, __global float* o2, int o2_off, int n) {
    int gid = get_global_id(0);
    if (gid >= 352) return;
    int i0 = gid / 88;
    int i1 = gid % 88;
    float acc0 = -INFINITY;
    for (int r0 = 0; r0 < n; r0++) {
        float t1 = p0[p0_off + r0 * 352 + i0 * 88 + i1];
        acc0 = gale_fmaxf(acc0, t1);
    }
    o1[o1_off + i0 * 88 + i1] = acc0;
}

__kernel void fused_column_reductions_2(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global float* o0, int o0_off, __global float* o1, int o1_off, __global float* o2, int o2_off, int n) {
    int gid = get_global_id(0);
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
    float t4 = (float) (acc0 / (double) (long) (n * 4));
    o2[o2_off + i0] = t4;
}
