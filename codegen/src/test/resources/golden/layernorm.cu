extern "C" __global__ void fused_layernorm(const float* x, int x_off, const float* g, int g_off, const float* b, int b_off, float* y, int y_off, int rows) {
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid >= rows) return;
    int i0 = gid;
    double acc1 = 0.0;
    for (int r0 = 0; r0 < 64; r0++) {
        float t2 = x[x_off + i0 * 64 + r0];
        acc1 = acc1 + (double) t2;
    }
    float t3 = (float) (acc1 / 64.0);
    double acc5 = 0.0;
    for (int r1 = 0; r1 < 64; r1++) {
        float t6 = x[x_off + i0 * 64 + r1];
        float t7 = t6 - t3;
        float t8 = t7 * t7;
        acc5 = acc5 + (double) t8;
    }
    float t9 = (float) (acc5 / 64.0);
    float t10 = t9 + 1.0E-5f;
    float t11 = sqrtf(t10);
    for (int i1 = 0; i1 < 64; i1++) {
        float t0 = x[x_off + i0 * 64 + i1];
        float t4 = t0 - t3;
        float t12 = t4 / t11;
        float t13 = g[g_off + i1];
        float t14 = t12 * t13;
        float t15 = b[b_off + i1];
        float t16 = t14 + t15;
        y[y_off + i0 * 64 + i1] = t16;
    }
}
