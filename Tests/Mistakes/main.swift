// nn-mistakes CASE: makes one programmer mistake through the library's
// public API, so a release-built test can check that the message reaches
// stderr (Tests/NNTests/Tensor/ReleaseMessageTests.swift). Not a product.
import Foundation
import NN

let mistakes: [String: () -> Void] = [
    "matmul": { _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5])) },
    "add": { _ = Tensor.zeros([2, 3]) + Tensor.zeros([4]) },
    "sum-axis": { _ = Tensor.zeros([2, 3]).sum(axis: 5) },
    "reshape": { _ = Tensor.zeros([2, 3]).reshaped([7]) },
    "softmax-axis": { _ = Tensor.zeros([2, 5]).softmax(axis: 3) },
    "slice": { _ = Tensor.zeros([2, 5]).slice(axis: 1, 0..<9) },
    "concatenate": { _ = Tensor.concatenate([Tensor.zeros([2, 3]), Tensor.zeros([2, 4])], axis: 0) },
    "transpose": { _ = Tensor.zeros([2, 3]).transposed(0, 4) },
    "conv2d-channels": { _ = Conv2d(1, 6, kernelSize: 5)(Tensor.zeros([2, 3, 28, 28])) },
    "linear": { _ = Linear(784, 10)(Tensor.zeros([2, 100])) },
    "lstm-input": { _ = LSTM(5, 9)(Tensor.zeros([7, 3, 4])) },
    "maxpool-kernel": { _ = MaxPool2d(5)(Tensor.zeros([1, 1, 2, 2])) },
    "cross-entropy-labels": {
        _ = Tensor.softmaxCrossEntropy(logits: Tensor.zeros([4, 10]), labels: Tensor(int32: [1, 2, 3]))
    },
    "backward-twice": {
        let w = Tensor.ones([3, 2]).requiringGrad()
        let loss = Tensor.ones([4, 3]).matmul(w).sum()
        loss.backward()
        loss.backward()
    },
    "dataloader-batch": {
        _ = DataLoader(Dataset(features: [0, 1, 2, 3], featureShape: [2], labels: [0, 1]), batchSize: 0)
    },
]

let name = CommandLine.arguments.dropFirst().first ?? ""
guard let mistake = mistakes[name] else {
    print("usage: nn-mistakes CASE, one of: \(mistakes.keys.sorted().joined(separator: ", "))")
    exit(64)
}
mistake()
print("nn-mistakes: \(name) did not stop")
exit(0)
