// reduce kernels: being written.
