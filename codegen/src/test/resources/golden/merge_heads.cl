__kernel void fused_transpose_reshape(__global const float* p0, int p0_off, __global float* o0, int o0_off, int seq) {
    int gid = get_global_id(0);
    if (gid >= seq * 64) return;
    int i0 = gid / 64;
    int i1 = gid / 16 % 4;
    int i2 = gid % 16;
    float t0 = p0[p0_off + i1 * seq * 16 + i0 * 16 + i2];
    o0[o0_off + i0 * 64 + i1 * 16 + i2] = t0;
}
