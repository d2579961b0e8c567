/// A compute device: its memory and every primitive the library needs.
///
/// The protocol is composed of one protocol per family of operations (memory,
/// GEMM, elementwise, reduction, softmax, convolution, pooling, random
/// numbers, optimizer updates, layout, recurrent cells), so each family stays small and a new
/// backend can be written family by family.
///
/// Conventions shared by every family:
/// - All arrays are dense and row-major; shapes and offsets count elements.
/// - Output buffers are passed in by the caller, who allocates them with
///   `makeBuffer`. An op never resizes or replaces a buffer. Outputs must not
///   alias inputs unless an op says so (kernels assume `restrict`).
/// - Ops are asynchronous where the device is: they enqueue and return. Only
///   `download` and `synchronize` wait, and they are where errors raised by
///   earlier asynchronous work (out of memory, a failed launch) are thrown.
/// - Float ops accept `.float32` and, where the device supports it,
///   `.float64`; all float operands of one call share one dtype. Index
///   operands (labels, argmax/max-pool indices) are `.int32`.
/// - Scalar parameters are passed as `Double` and converted to the operand
///   dtype by the backend.
///
/// A backend is `Sendable`: one instance serves every task of the process,
/// so its mutable state (queues, pools, caches) must be behind locks the
/// compiler checks.
public protocol Backend: MemoryOps, GEMMOps, ElementwiseOps, ReductionOps,
    SoftmaxOps, ConvolutionOps, PoolingOps, RandomOps, OptimizerOps, LayoutOps, RecurrentOps, Sendable
{}
