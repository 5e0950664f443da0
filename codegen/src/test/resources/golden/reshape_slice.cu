extern "C" __global__ void fused_reshape_slice_0(const float* p0, int p0_off, const float* p1, int p1_off, float* o0, int o0_off, float* o1, int o1_off, int n) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= n * 6) return;
    int i0 = gid / 6;
    int i1 = gid / 2 % 3;
    int i2 = gid % 2;
    float t0 = p0[p0_off + i0 * 12 + i1 * 4 + i2 * 2 + 1];
    float t1 = p1[p1_off + i1 * 2 + i2];
    float t2 = t0 * t1;
    o0[o0_off + i0 * 6 + i1 * 2 + i2] = t2;
}

extern "C" __global__ void fused_reshape_slice_1(const float* p0, int p0_off, const float* p1, int p1_off, float* o0, int o0_off, float* o1, int o1_off, int n) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= n) return;
    int i0 = gid;
    double acc0 = 0.0;
    for (int r0 = 0; r0 < 3; r0++) {
        for (int r1 = 0; r1 < 2; r1++) {
            float t1 = o0[o0_off + i0 * 6 + r0 * 2 + r1];
            acc0 = acc0 + (double) t1;
        }
    }
    float t2 = (float) acc0;
    o1[o1_off + i0] = t2;
}
