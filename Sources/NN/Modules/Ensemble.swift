import Foundation

/// Several classifiers voting by averaged probabilities: the output is
/// log(mean_k softmax(member_k(x))), log-probabilities [N, C], so that
/// argmax is the ensemble's prediction and `CrossEntropyLoss` (or
/// `NLLLoss`) of it is the ensemble's negative log-likelihood. Members are
/// registered as "0", "1", ... (the state dict of each under its index).
///
/// The average is taken in log space (max-shifted), so members that are
/// all confidently wrong give a large finite loss, not infinity.
public final class Ensemble: Module, @unchecked Sendable {
    public let members: [Module]

    public init(_ members: [Module]) {
        require(!members.isEmpty, "Ensemble: no members")
        self.members = members
        super.init()
        for (i, member) in members.enumerated() { register(module: "\(i)", member) }
    }

    /// Members made by `make` (one fresh model each) loaded from
    /// `checkpoints` (weights-only or training checkpoints): an ensemble of
    /// checkpoints of one run, or of several runs.
    public convenience init(checkpoints: [URL], make: () -> Module) throws {
        let members = try checkpoints.map { url -> Module in
            let model = make()
            try model.load(checkpoint: url)
            return model
        }
        self.init(members)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let logProbabilities = members.map { member -> Tensor in
            let logits = member(input)
            require(logits.rank == 2, "Ensemble: a member returned \(logits.shape); members must give logits [N, classes]")
            return logits.logSoftmax(axis: -1).reshaped([1] + logits.shape)
        }
        let stacked = Tensor.concatenate(logProbabilities, axis: 0)  // [K, N, C]
        let top = stacked.max(axis: 0, keepDims: true).detached()
        return (stacked - top).exp().mean(axis: 0).log() + top.reshaped(Array(stacked.shape.dropFirst()))
    }
}
