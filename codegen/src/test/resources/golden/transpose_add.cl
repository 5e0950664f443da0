__kernel void fused_transpose_add(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global float* o0, int o0_off) {
    int gid = get_global_id(0);
    if (gid >= 60) return;
    int i0 = gid / 12;
    int i1 = gid / 3 % 4;
    int i2 = gid % 3;
    float t0 = p0[p0_off + i1 * 15 + i2 * 5 + i0];
    float t1 = p1[p1_off + i0 * 3 + i2];
    float t2 = t0 + t1;
    o0[o0_off + i0 * 12 + i1 * 3 + i2] = t2;
}
