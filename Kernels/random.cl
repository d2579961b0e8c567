// random kernels: being written.
