import NN

/// One full training step of three models: the number a user compares
/// with their framework of choice. Each case also names its PyTorch twin
/// (Benchmarks/pytorch/train_suite.py), which `nnbench run` times beside it.
enum TrainingSuite {
    static let mlpName = "MLP 784-512-256-10 b128 SGD-momentum"
    static let leNetName = "LeNet-5 b64 SGD-momentum"
    static let lstmName = "Embedding 64 + LSTM 256 + Linear, vocab 96, b32 T64, clip 5, Adam"

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        func train(_ name: String, _ pytorch: [String], _ make: @escaping (Device) -> TrainingModel) -> BenchmarkCase {
            BenchmarkCase(.train, name, work: .none, pytorch: pytorch) { target in
                guard let device = target.device else { return nil }
                let model = make(device)
                return { model.step() }
            }
        }
        func mlp(_ sizes: [Int], _ batch: Int) -> [String] {
            ["--model", "mlp", "--sizes", sizes.map(String.init).joined(separator: ","), "--batch", "\(batch)"]
        }
        func lstm(_ vocabulary: Int, _ embedding: Int, _ hidden: Int, _ batch: Int, _ steps: Int) -> [String] {
            ["--model", "charlstm", "--vocab", "\(vocabulary)", "--embedding", "\(embedding)", "--hidden", "\(hidden)",
             "--batch", "\(batch)", "--steps", "\(steps)"]
        }
        switch scale {
        case .large:
            return cases(.standard) + [train("LeNet-5 b256 SGD-momentum", ["--model", "lenet", "--batch", "256"]) { LeNet5Model(batch: 256, on: $0) }]
        case .standard:
            return [
                train(mlpName, mlp([784, 512, 256, 10], 128)) { MLPModel(sizes: [784, 512, 256, 10], batch: 128, on: $0) },
                train(leNetName, ["--model", "lenet", "--batch", "64"]) { LeNet5Model(batch: 64, on: $0) },
                train(lstmName, lstm(96, 64, 256, 32, 64)) {
                    CharLSTMModel(vocabulary: 96, embeddingSize: 64, hiddenSize: 256, batch: 32, steps: 64, on: $0)
                },
            ]
        case .tiny:
            return [
                train("MLP 20-16-5 b8 SGD-momentum", mlp([20, 16, 5], 8)) { MLPModel(sizes: [20, 16, 5], batch: 8, on: $0) },
                train("LeNet-5 b2 SGD-momentum", ["--model", "lenet", "--batch", "2"]) { LeNet5Model(batch: 2, on: $0) },
                train("Embedding 4 + LSTM 8 + Linear, vocab 7, b2 T3, clip 5, Adam", lstm(7, 4, 8, 2, 3)) {
                    CharLSTMModel(vocabulary: 7, embeddingSize: 4, hiddenSize: 8, batch: 2, steps: 3, on: $0)
                },
            ]
        }
    }
}
