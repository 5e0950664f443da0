extern "C" __global__ void fused_slice_grads_regions_0(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, const float* p4, int p4_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 384) return;
    int i0 = gid / 64;
    int i1 = gid / 16 % 4;
    int i2 = gid % 16;
    float t0 = 0.0f + 0.0f;
    float t1 = p0[p0_off + i1 * 96 + i0 * 16 + i2];
    float t2 = t0 + t1;
    o0[o0_off + i0 * 192 + i1 * 48 + i2] = t2;
}

extern "C" __global__ void fused_slice_grads_regions_1(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, const float* p4, int p4_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 384) return;
    int i0 = gid / 64;
    int i1 = gid / 16 % 4;
    int i2 = gid % 16;
    float t0 = p1[p1_off + i0 * 64 + i1 * 16 + i2];
    float t1 = 0.0f + t0;
    float t2 = t1 + 0.0f;
    o0[o0_off + i0 * 192 + i1 * 48 + i2 + 16] = t2;
}

extern "C" __global__ void fused_slice_grads_regions_2(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, const float* p4, int p4_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 384) return;
    int i0 = gid / 64;
    int i1 = gid / 16 % 4;
    int i2 = gid % 16;
    float t0 = p2[p2_off + i0 * 64 + i1 * 16 + i2];
    float t1 = t0 + 0.0f;
    float t2 = t1 + 0.0f;
    o0[o0_off + i0 * 192 + i1 * 48 + i2 + 32] = t2;
}

extern "C" __global__ void fused_slice_grads_regions_3(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, const float* p4, int p4_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 384) return;
    int i0 = gid / 64;
    int i1 = gid / 16 % 4;
    int i2 = gid % 16;
    float t0 = p2[p2_off + i0 * 64 + i1 * 16 + i2];
    o1[o1_off + i0 * 128 + i1 * 32 + i2] = t0;
}

extern "C" __global__ void fused_slice_grads_regions_4(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, const float* p4, int p4_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 384) return;
    int i0 = gid / 64;
    int i1 = gid / 16 % 4;
    int i2 = gid % 16;
    float t0 = p3[p3_off + i0 * 64 + i1 * 16 + i2];
    o1[o1_off + i0 * 128 + i1 * 32 + i2 + 16] = t0;
}

extern "C" __global__ void fused_slice_grads_regions_5(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, const float* p4, int p4_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 456) return;
    int i0 = gid / 76;
    int i1 = gid / 19 % 4;
    int i2 = gid % 19;
    float t0 = p2[p2_off + i0 * 64 + i1 * 16 + min(i2, 15)];
    float t1 = p4[p4_off + i0 * 12 + i1 * 3 + max(i2 - 16, 0)];
    float t2 = (long long) i2 < 16LL ? t0 : t1;
    o2[o2_off + i0 * 76 + i1 * 19 + i2] = t2;
}
