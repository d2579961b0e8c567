// The OpenCL C API's types, constants and function-pointer types (Debian:
// opencl-headers). Nothing is linked: the OpenCL backend opens the loader
// with dlopen at run time (Sources/NNOpenCL/OpenCLLibrary.swift), so a
// binary starts on a machine without OpenCL. cl_icd.h gives one
// `cl_api_<name>` pointer type per entry point. Target 1.2 so the headers do
// not warn about the default.
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <CL/cl_icd.h>
