#ifndef GALE_MINMAX_FLOAT
#define GALE_MINMAX_FLOAT
static inline float gale_fmaxf(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }
static inline float gale_fminf(float a, float b) { return a != a || b != b ? a + b : fminf(a, b); }
#endif

__kernel void fused_mask(__global const float* p0, int p0_off, __global const uchar* p1, int p1_off, __global const float* p2, int p2_off, __global float* o0, int o0_off, __global uchar* o1, int o1_off) {
    int gid = get_global_id(0);
    if (gid >= 128) return;
    int i0 = gid / 64;
    int i1 = gid / 8 % 8;
    int i2 = gid % 8;
    float t3 = p2[p2_off];
    bool t0 = p1[p1_off + i1 * 8 + i2];
    float t1 = p0[p0_off + i0 * 64 + i1 * 8 + i2];
    float t2 = t0 ? t1 : -1.0E9f;
    float t4 = gale_fminf(gale_fmaxf(t2, 0.0f), t3);
    o0[o0_off + i0 * 64 + i1 * 8 + i2] = t4;
    bool t5 = t1 > t3;
    o1[o1_off + i0 * 64 + i1 * 8 + i2] = t5;
}
