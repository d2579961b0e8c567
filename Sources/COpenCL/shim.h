// The OpenCL C API through the ICD loader (Debian: ocl-icd-opencl-dev,
// opencl-headers). Target 1.2 so the headers do not warn about the default.
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
