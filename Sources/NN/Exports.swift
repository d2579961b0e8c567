// `import NN` is the one import a user writes: it brings the layers below
// with it. The NN layer's own sources are written against the tensor API;
// the backends are re-exported for the programs that pick, list or tune a
// device (nnbench, the parity tests), not for the modules here.
@_exported import NNBackend
@_exported import NNCPU
@_exported import NNOpenCL
@_exported import NNTensor
