extern "C" __global__ void fused_pad_concat(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, float* o0, int o0_off, float* o1, int o1_off) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= 2000) return;
    int i0 = gid / 500;
    int i1 = gid / 100 % 5;
    int i2 = gid / 10 % 10;
    int i3 = gid % 10;
    float t0 = p0[p0_off + i0 * 192 + min(i1, 2) * 64 + min(max(i2 - 1, 0), 7) * 8 + min(max(i3 - 1, 0), 7)];
    float t1 = (long long) (i2 - 1) >= 0LL && (long long) (i2 - 1) < 8LL && ((long long) (i3 - 1) >= 0LL && (long long) (i3 - 1) < 8LL) ? t0 : 0.0f;
    float t2 = p1[p1_off + i0 * 200 + max(i1 - 3, 0) * 100 + i2 * 10 + i3];
    float t3 = (long long) i1 < 3LL ? t1 : t2;
    o0[o0_off + i0 * 500 + i1 * 100 + i2 * 10 + i3] = t3;
    float t4 = p2[p2_off + i0 * 250 + i1 * 50 + (i2 / 2) * 10 + i3];
    float t5 = (long long) (i2 % 2) == 0LL ? t4 : 0.0f;
    float t6 = t5 + t3;
    o1[o1_off + i0 * 500 + i1 * 100 + i2 * 10 + i3] = t6;
}
