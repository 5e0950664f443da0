extern "C" __global__ void fused_add_gelu(const float* p0, int p0_off, const float* p1, int p1_off, float* o0, int o0_off, int batch) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= batch * 768) return;
    int i0 = gid / 768;
    int i1 = gid % 768;
    float t0 = p0[p0_off + i0 * 768 + i1];
    float t1 = p1[p1_off + i1];
    float t2 = t0 + t1;
    float t3 = 0.5f * t2 * (1.0f + erff(t2 * 0.70710677f));
    o0[o0_off + i0 * 768 + i1] = t3;
}
