// The simulator check's self-test (scripts/check-opencl-sim --self-test):
// a kernel that writes one element past its buffer. Oclgrind must report
// it, or the check could pass while seeing nothing.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

static const char *source =
    "kernel void past_the_end(global int *out, const int n) {\n"
    "    const int i = get_global_id(0);\n"
    "    out[i + 1] = i;  // i = n - 1 writes out[n]\n"
    "}\n";

static int fail(const char *what, cl_int status) {
    fprintf(stderr, "out-of-bounds probe: %s failed (%d)\n", what, status);
    return 2;
}

int main(void) {
    cl_platform_id platform;
    cl_device_id device;
    cl_int status = clGetPlatformIDs(1, &platform, NULL);
    if (status != CL_SUCCESS) return fail("clGetPlatformIDs", status);
    status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    if (status != CL_SUCCESS) return fail("clGetDeviceIDs", status);
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
    if (status != CL_SUCCESS) return fail("clCreateContext", status);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &status);
    if (status != CL_SUCCESS) return fail("clCreateCommandQueue", status);
    cl_program program = clCreateProgramWithSource(context, 1, &source, NULL, &status);
    if (status != CL_SUCCESS) return fail("clCreateProgramWithSource", status);
    status = clBuildProgram(program, 1, &device, "", NULL, NULL);
    if (status != CL_SUCCESS) return fail("clBuildProgram", status);
    cl_kernel kernel = clCreateKernel(program, "past_the_end", &status);
    if (status != CL_SUCCESS) return fail("clCreateKernel", status);
    const int n = 16;
    cl_mem out = clCreateBuffer(context, CL_MEM_READ_WRITE, n * sizeof(int), NULL, &status);
    if (status != CL_SUCCESS) return fail("clCreateBuffer", status);
    clSetKernelArg(kernel, 0, sizeof out, &out);
    clSetKernelArg(kernel, 1, sizeof n, &n);
    size_t global = n;
    status = clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, NULL, 0, NULL, NULL);
    if (status != CL_SUCCESS) return fail("clEnqueueNDRangeKernel", status);
    status = clFinish(queue);
    if (status != CL_SUCCESS) return fail("clFinish", status);
    printf("out-of-bounds probe ran on the device\n");
    return 0;
}
