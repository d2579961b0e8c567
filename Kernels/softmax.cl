// softmax kernels: being written.
