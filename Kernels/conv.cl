// conv kernels: being written.
