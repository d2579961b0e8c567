/// A lookup table of learned vectors (PyTorch's `nn.Embedding`): int32
/// indices [*] -> rows of `weight` [*, embeddingDim].
///
/// `weight` [numEmbeddings, embeddingDim] starts as N(0, 1), as PyTorch. The
/// lookup is a gather along axis 0, so the gradient is a scatter-add of the
/// output gradient into the used rows (deterministic on both backends).
///
/// Indices must lie in 0..<numEmbeddings. On the CPU an index outside stops
/// with a message; on OpenCL the indices are not read back to check them
/// (that would wait for the device every step), as PyTorch does not on CUDA.
public final class Embedding: Module, @unchecked Sendable {
    public let numEmbeddings: Int
    public let embeddingDim: Int
    /// [numEmbeddings, embeddingDim].
    public let weight: Parameter

    public init(_ numEmbeddings: Int, _ embeddingDim: Int, dtype: DType = .float32, device: Device = .default) {
        require(numEmbeddings >= 1 && embeddingDim >= 1,
                     "Embedding: numEmbeddings \(numEmbeddings) and embeddingDim \(embeddingDim) must be positive")
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        weight = Parameter(Init.normal([numEmbeddings, embeddingDim], dtype: dtype, on: device))
        super.init()
        register(parameter: "weight", weight)
    }

    public override var summary: String { "Embedding(\(numEmbeddings), \(embeddingDim))" }

    public override func forward(_ input: Tensor) -> Tensor {
        let label = summary
        let indices = input.asIndices(label)
        require(indices.device == weight.device,
                     "\(label): indices on \(indices.device), weight on \(weight.device)")
        if indices.device == .cpu, let values = try? indices.toArray(as: Int32.self),
           let bad = values.first(where: { $0 < 0 || Int($0) >= numEmbeddings }) {
            requirementFailed("\(label): index \(bad) out of range 0..<\(numEmbeddings) (indices \(indices.shape))")
        }
        let n = indices.count
        // gather wants one index per output element: repeat each index
        // along the embedding axis.
        let rows = indices.reshaped([n, 1]).broadcast(to: [n, embeddingDim])
        return weight.value.gather(axis: 0, indices: rows).reshaped(indices.shape + [embeddingDim])
    }
}
