extern "C" __global__ void fused_layernormalization_0(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off, int batch) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= batch * 16) return;
    int i0 = gid / 16;
    int i1 = gid % 16;
    double acc0 = 0.0;
    for (int r0 = 0; r0 < 64; r0++) {
        float t1 = p0[p0_off + i0 * 1024 + i1 * 64 + r0];
        acc0 = acc0 + (double) t1;
    }
    double t2 = acc0 / 64.0;
    double acc3 = 0.0;
    for (int r1 = 0; r1 < 64; r1++) {
        float t4 = p0[p0_off + i0 * 1024 + i1 * 64 + r1];
        acc3 = acc3 + ((double) t4 - t2) * ((double) t4 - t2);
    }
    double t5 = acc3 / 64.0;
    double t6 = 1.0 / sqrt(t5 + 9.999999747378752E-6);
    float t8 = (float) t2;
    float t9 = (float) t6;
    for (int i2 = 0; i2 < 64; i2++) {
        float t7 = p0[p0_off + i0 * 1024 + i1 * 64 + i2];
        float t10 = (t7 - t8) * t9;
        float t11 = p1[p1_off + i2];
        float t12 = t10 * t11;
        float t13 = p2[p2_off + i2];
        float t14 = t12 + t13;
        float t15 = p3[p3_off + i0 * 1024 + i1 * 64 + i2];
        float t16 = t14 + t15;
        o0[o0_off + i0 * 1024 + i1 * 64 + i2] = t16;
    }
}

extern "C" __global__ void fused_layernormalization_1(const float* p0, int p0_off, const float* p1, int p1_off, const float* p2, int p2_off, const float* p3, int p3_off, float* o0, int o0_off, float* o1, int o1_off, float* o2, int o2_off, int batch) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= batch * 16) return;
    int i0 = gid / 16;
    int i1 = gid % 16;
    double acc0 = 0.0;
    for (int r0 = 0; r0 < 64; r0++) {
        float t1 = p0[p0_off + i0 * 1024 + i1 * 64 + r0];
        acc0 = acc0 + (double) t1;
    }
    double t2 = acc0 / 64.0;
    double acc3 = 0.0;
    for (int r1 = 0; r1 < 64; r1++) {
        float t4 = p0[p0_off + i0 * 1024 + i1 * 64 + r1];
        acc3 = acc3 + ((double) t4 - t2) * ((double) t4 - t2);
    }
    double t5 = acc3 / 64.0;
    double t6 = 1.0 / sqrt(t5 + 9.999999747378752E-6);
    float t7 = (float) t2;
    o1[o1_off + i0 * 16 + i1] = t7;
    float t8 = (float) t6;
    o2[o2_off + i0 * 16 + i1] = t8;
}
