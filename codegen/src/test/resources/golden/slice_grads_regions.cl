__kernel void fused_slice_grads_regions_0(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global const float* p2, int p2_off, __global const float* p3, int p3_off, __global float* o0, int o0_off, __global float* o1, int o1_off) {
    int gid = get_global_id(0);
    if (gid >= 120) return;
    int i0 = gid / 20;
    int i1 = gid / 5 % 4;
    int i2 = gid % 5;
    float t0 = 0.0f + 0.0f;
    float t1 = p0[p0_off + i1 * 30 + i0 * 5 + i2];
    float t2 = t0 + t1;
    o0[o0_off + i0 * 60 + i1 * 15 + i2] = t2;
}

__kernel void fused_slice_grads_regions_1(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global const float* p2, int p2_off, __global const float* p3, int p3_off, __global float* o0, int o0_off, __global float* o1, int o1_off) {
    int gid = get_global_id(0);
    if (gid >= 120) return;
    int i0 = gid / 20;
    int i1 = gid / 5 % 4;
    int i2 = gid % 5;
    float t0 = p1[p1_off + i0 * 20 + i1 * 5 + i2];
    float t1 = 0.0f + t0;
    float t2 = t1 + 0.0f;
    o0[o0_off + i0 * 60 + i1 * 15 + i2 + 5] = t2;
}

__kernel void fused_slice_grads_regions_2(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global const float* p2, int p2_off, __global const float* p3, int p3_off, __global float* o0, int o0_off, __global float* o1, int o1_off) {
    int gid = get_global_id(0);
    if (gid >= 120) return;
    int i0 = gid / 20;
    int i1 = gid / 5 % 4;
    int i2 = gid % 5;
    float t0 = p2[p2_off + i0 * 20 + i1 * 5 + i2];
    float t1 = t0 + 0.0f;
    float t2 = t1 + 0.0f;
    o0[o0_off + i0 * 60 + i1 * 15 + i2 + 10] = t2;
}

__kernel void fused_slice_grads_regions_3(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global const float* p2, int p2_off, __global const float* p3, int p3_off, __global float* o0, int o0_off, __global float* o1, int o1_off) {
    int gid = get_global_id(0);
    if (gid >= 120) return;
    int i0 = gid / 20;
    int i1 = gid / 5 % 4;
    int i2 = gid % 5;
    float t0 = p2[p2_off + i0 * 20 + i1 * 5 + i2];
    o1[o1_off + i0 * 32 + i1 * 8 + i2] = t0;
}

__kernel void fused_slice_grads_regions_4(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global const float* p2, int p2_off, __global const float* p3, int p3_off, __global float* o0, int o0_off, __global float* o1, int o1_off) {
    int gid = get_global_id(0);
    if (gid >= 72) return;
    int i0 = gid / 12;
    int i1 = gid / 3 % 4;
    int i2 = gid % 3;
    float t0 = p3[p3_off + i0 * 12 + i1 * 3 + i2];
    o1[o1_off + i0 * 32 + i1 * 8 + i2 + 5] = t0;
}
