// pool kernels: being written.
