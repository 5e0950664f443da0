__kernel void fused_add_gelu(__global const float* p0, int p0_off, __global const float* p1, int p1_off, __global float* o0, int o0_off, int batch) {
    int gid = get_global_id(0);
    if (gid >= batch * 768) return;
    int i0 = gid / 768;
    int i1 = gid % 768;
    float t0 = p0[p0_off + i0 * 768 + i1];
    float t1 = p1[p1_off + i1];
    float t2 = t0 + t1;
    float t3 = 0.5f * t2 * (1.0f + erf(t2 * 0.70710677f));
    o0[o0_off + i0 * 768 + i1] = t3;
}
