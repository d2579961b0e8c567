// gemm kernels: being written.
