// The CLBlast yardstick for the library's OpenCL GEMM (issue 16): times
// CLBlastSgemm, row-major C = A B, on one OpenCL device, the way nnbench
// times its GEMM cases (a warm-up call, which also builds CLBlast's
// kernels, then the median of timed calls each ending in clFinish).
//
// usage: clblast_sgemm PLATFORM DEVICE REPEATS M N K [M N K ...]
// prints one line per shape: m n k median_ms gflops
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static void fail(const char* what, int code) {
    fprintf(stderr, "clblast_sgemm: %s failed with status %d\n", what, code);
    exit(1);
}

int main(int argc, char** argv) {
    if (argc < 7 || (argc - 4) % 3 != 0) {
        fprintf(stderr, "usage: %s PLATFORM DEVICE REPEATS M N K [M N K ...]\n", argv[0]);
        return 64;
    }
    const int platformIndex = atoi(argv[1]), deviceIndex = atoi(argv[2]), repeats = atoi(argv[3]);
    cl_platform_id platforms[16];
    cl_uint platformCount = 0;
    cl_int status = clGetPlatformIDs(16, platforms, &platformCount);
    if (status != CL_SUCCESS || platformIndex >= (int)platformCount) fail("clGetPlatformIDs", status);
    cl_device_id devices[16];
    cl_uint deviceCount = 0;
    status = clGetDeviceIDs(platforms[platformIndex], CL_DEVICE_TYPE_ALL, 16, devices, &deviceCount);
    if (status != CL_SUCCESS || deviceIndex >= (int)deviceCount) fail("clGetDeviceIDs", status);
    cl_device_id device = devices[deviceIndex];
    char name[256] = {0};
    clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name - 1, name, NULL);
    fprintf(stderr, "CLBlast on %s\n", name);
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
    if (status != CL_SUCCESS) fail("clCreateContext", status);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &status);
    if (status != CL_SUCCESS) fail("clCreateCommandQueue", status);

    for (int s = 4; s + 2 < argc; s += 3) {
        const size_t m = atol(argv[s]), n = atol(argv[s + 1]), k = atol(argv[s + 2]);
        float* host = malloc(sizeof(float) * (m * k + k * n));
        for (size_t i = 0; i < m * k + k * n; ++i) host[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
        cl_mem a = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(float) * m * k, host, &status);
        if (status != CL_SUCCESS) fail("clCreateBuffer(A)", status);
        cl_mem b = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof(float) * k * n, host + m * k, &status);
        if (status != CL_SUCCESS) fail("clCreateBuffer(B)", status);
        cl_mem c = clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof(float) * m * n, NULL, &status);
        if (status != CL_SUCCESS) fail("clCreateBuffer(C)", status);
        double* times = malloc(sizeof(double) * (repeats + 1));
        for (int r = 0; r <= repeats; ++r) {
            const double start = now();
            CLBlastStatusCode code = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k, 1.0f,
                                                  a, 0, k, b, 0, n, 0.0f, c, 0, n, &queue, NULL);
            if (code != CLBlastSuccess) fail("CLBlastSgemm", code);
            clFinish(queue);
            times[r] = now() - start;  // times[0] is the warm-up (kernel build)
        }
        qsort(times + 1, repeats, sizeof(double), compare);
        const double median = times[1 + repeats / 2];
        printf("%zu %zu %zu %.3f %.1f\n", m, n, k, median * 1e3, 2.0 * m * n * k / median * 1e-9);
        fflush(stdout);
        free(times);
        free(host);
        clReleaseMemObject(a);
        clReleaseMemObject(b);
        clReleaseMemObject(c);
    }
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    return 0;
}
