#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__kernel void fused_softmax_op(__global const float* p0, int p0_off, __global float* o0, int o0_off, __global float* o1, int o1_off, int b) {
    int gid = get_global_id(0);
    if (gid >= b * 4) return;
    int i0 = gid / 4;
    int i1 = gid % 4;
    float acc0 = -INFINITY;
    for (int r0 = 0; r0 < 33; r0++) {
        float t1 = p0[p0_off + i0 * 132 + i1 * 33 + r0];
        acc0 = fmax(acc0, t1);
    }
    double t2 = (double) acc0;
    double acc3 = 0.0;
    for (int r1 = 0; r1 < 33; r1++) {
        float t4 = p0[p0_off + i0 * 132 + i1 * 33 + r1];
        acc3 = acc3 + exp((double) t4 - t2);
    }
    float t7 = (float) acc3;
    for (int i2 = 0; i2 < 33; i2++) {
        float t5 = p0[p0_off + i0 * 132 + i1 * 33 + i2];
        float t6 = t5 - acc0;
        float t8 = exp(t6) / t7;
        o0[o0_off + i0 * 132 + i1 * 33 + i2] = t8;
        float acc9 = -INFINITY;
        for (int r2 = 0; r2 < 4; r2++) {
            float t10 = p0[p0_off + i0 * 132 + r2 * 33 + i2];
            acc9 = fmax(acc9, t10);
        }
        double t11 = (double) acc9;
        double acc12 = 0.0;
        for (int r3 = 0; r3 < 4; r3++) {
            float t13 = p0[p0_off + i0 * 132 + r3 * 33 + i2];
            acc12 = acc12 + exp((double) t13 - t11);
        }
        float t14 = t5 - acc9;
        float t15 = (float) log(acc12);
        float t16 = t14 - t15;
        o1[o1_off + i0 * 132 + i1 * 33 + i2] = t16;
    }
}
