/// Inverted dropout (PyTorch's `nn.Dropout`): in training mode each element
/// is zeroed with probability `p` and the survivors are scaled by
/// 1 / (1 - p), so the expected value is unchanged and evaluation mode is
/// the identity.
///
/// `p` is the probability of dropping (PyTorch's convention), not of keeping
/// as in some course notes: keep probability q corresponds to p = 1 - q.
/// The mask comes from the counter-based `Random` streams, so a seeded run
/// drops the same elements on every backend.
public final class Dropout: Module, @unchecked Sendable {
    public let p: Double

    public init(p: Double = 0.5) {
        require(p >= 0 && p <= 1, "Dropout: probability \(p) outside [0, 1]")
        self.p = p
        super.init()
    }

    /// PyTorch's positional form: `Dropout(0.2)`.
    public convenience init(_ p: Double) { self.init(p: p) }

    public override var summary: String { "Dropout(p: \(p))" }

    public override func forward(_ input: Tensor) -> Tensor { input.dropout(p: p, training: isTraining) }
}
