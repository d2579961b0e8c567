import NN

/// One full training step of the models PyTorch was timed on (issue 6):
/// the number a user compares with their framework of choice.
enum TrainingSuite {
    static let mlpName = "MLP 784-512-256-10 b128 SGD-momentum"
    static let leNetName = "LeNet-5 b64 SGD-momentum"
    static let lstmName = "Embedding 64 + LSTM 256 + Linear, vocab 96, b32 T64, clip 5, Adam"

    /// PyTorch 2.15 on the CPU of the 2-core benchmark machine, as measured
    /// for issue 6 (one step, median): quoted, not run by nnbench.
    static let pyTorchReferences: [ReferenceTiming] = [
        (mlpName, 2.86), (leNetName, 5.48), (lstmName, 31.5),
    ].map { name, ms in
        ReferenceTiming(suite: Suite.train.rawValue, case: name, device: "pytorch", medianMs: ms,
                        source: "PyTorch 2.15 CPU on the 2-core benchmark machine (issue 6); quoted, not measured by this run")
    }

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        func train(_ name: String, _ make: @escaping (Device) -> TrainingModel) -> BenchmarkCase {
            BenchmarkCase(.train, name, work: .none) { device in
                let model = make(device)
                return { model.step() }
            }
        }
        switch scale {
        case .large:
            return cases(.standard) + [train("LeNet-5 b256 SGD-momentum") { LeNet5Model(batch: 256, on: $0) }]
        case .standard:
            return [
                train(mlpName) { MLPModel(sizes: [784, 512, 256, 10], batch: 128, on: $0) },
                train(leNetName) { LeNet5Model(batch: 64, on: $0) },
                train(lstmName) {
                    CharLSTMModel(vocabulary: 96, embeddingSize: 64, hiddenSize: 256, batch: 32, steps: 64, on: $0)
                },
            ]
        case .tiny:
            return [
                train("MLP 20-16-5 b8 SGD-momentum") { MLPModel(sizes: [20, 16, 5], batch: 8, on: $0) },
                train("LeNet-5 b2 SGD-momentum") { LeNet5Model(batch: 2, on: $0) },
                train("Embedding 4 + LSTM 8 + Linear, vocab 7, b2 T3, clip 5, Adam") {
                    CharLSTMModel(vocabulary: 7, embeddingSize: 4, hiddenSize: 8, batch: 2, steps: 3, on: $0)
                },
            ]
        }
    }
}
