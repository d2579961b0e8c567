import NN

/// The three models PyTorch was timed on (the MLP and LeNet-5 written with
/// Tensor ops, the char-LSTM with the library's modules), each
/// holding its parameters, optimizer state and a fixed batch, with `step()`
/// running one full training step: forward, loss, backward, optimizer
/// update. Nothing is read back to the host (a training loop reads the loss
/// only when it logs it).
protocol TrainingModel: AnyObject {
    func step()
    /// Trainable scalars (what data-parallel training averages every step).
    var parameterCount: Int { get }
}

/// Weight [fanIn, fanOut] and bias uniform in +-1/sqrt(fanIn), PyTorch's
/// default Linear and Conv2d initialization (kaiming_uniform with a = sqrt 5).
private func uniformParameter(_ shape: [Int], fanIn: Int, on device: Device) -> Tensor {
    let bound = 1 / Double(fanIn).squareRoot()
    return Tensor.uniform(shape, low: -bound, high: bound, on: device).requiringGrad()
}

/// `count` labels in 0..<classes, the same on every device.
private func randomLabels(_ count: Int, classes: Int, seed: UInt64, on device: Device) -> Tensor {
    Tensor(int32: (0..<count).map { Int32(Philox.uniform($0, seed: seed, stream: 0) * Float(classes)) % Int32(classes) },
           on: device)
}

/// SGD with momentum over a parameter list (torch.optim.SGD semantics).
private final class MomentumSGD {
    let parameters: [Tensor]
    let velocity: [Tensor]
    let hyper: SGDHyperparameters
    private var first = true

    init(_ parameters: [Tensor], learningRate: Double, momentum: Double) {
        self.parameters = parameters
        velocity = parameters.map { $0.zerosLike() }
        hyper = SGDHyperparameters(learningRate: learningRate, momentum: momentum)
    }

    func zeroGrad() { parameters.forEach { $0.zeroGrad() } }

    func step() {
        for (p, v) in zip(parameters, velocity) { p.sgdStep(momentumBuffer: v, hyper: hyper, firstStep: first) }
        first = false
    }

    /// One training step from `logits`: mean cross-entropy, backward, update.
    func train(logits: Tensor, labels: Tensor) {
        let loss = Tensor.softmaxCrossEntropy(logits: logits, labels: labels).mean()
        zeroGrad()
        loss.backward()
        step()
    }
}

/// Linear layers of `sizes` with ReLU between them, weights [fanIn, fanOut].
/// Bias and ReLU run as one fused kernel (what `Sequential` does for Linear
/// + ReLU); PyTorch's eager reference runs them as two.
private struct DenseStack {
    private static let biasReLU = FusedElementwise("bias+relu") { x, b in (x + b).relu() }

    let layers: [(w: Tensor, b: Tensor)]

    init(_ sizes: [Int], on device: Device) {
        layers = zip(sizes, sizes.dropFirst()).map { fanIn, fanOut in
            (uniformParameter([fanIn, fanOut], fanIn: fanIn, on: device), uniformParameter([fanOut], fanIn: fanIn, on: device))
        }
    }

    var parameters: [Tensor] { layers.flatMap { [$0.w, $0.b] } }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = i < layers.count - 1 ? DenseStack.biasReLU(h.matmul(layer.w), layer.b) : h.matmul(layer.w) + layer.b
        }
        return h
    }
}

/// MLP 784-512-256-10 with ReLU, softmax cross-entropy, SGD momentum 0.9.
final class MLPModel: TrainingModel {
    private let layers: DenseStack
    private let x: Tensor
    private let labels: Tensor
    private let optimizer: MomentumSGD

    init(sizes: [Int], batch: Int, on device: Device) {
        Random.manualSeed(51)
        layers = DenseStack(sizes, on: device)
        x = Tensor.normal([batch, sizes[0]], on: device)
        labels = randomLabels(batch, classes: sizes.last!, seed: 52, on: device)
        optimizer = MomentumSGD(layers.parameters, learningRate: 0.01, momentum: 0.9)
    }

    func step() { optimizer.train(logits: layers(x), labels: labels) }

    var parameterCount: Int { optimizer.parameters.map(\.count).reduce(0, +) }
}

/// LeNet-5 on 1x28x28 inputs: conv 6@5x5 pad 2, ReLU, max-pool 2; conv
/// 16@5x5, ReLU, max-pool 2; Linear 400-120-84-10 with ReLU; softmax
/// cross-entropy; SGD momentum 0.9.
final class LeNet5Model: TrainingModel {
    private let conv1: (w: Tensor, b: Tensor), conv2: (w: Tensor, b: Tensor)
    private let dense: DenseStack
    private let x: Tensor
    private let labels: Tensor
    private let batch: Int
    private let optimizer: MomentumSGD

    init(batch: Int, on device: Device) {
        Random.manualSeed(53)
        self.batch = batch
        conv1 = (uniformParameter([6, 1, 5, 5], fanIn: 25, on: device), uniformParameter([6], fanIn: 25, on: device))
        conv2 = (uniformParameter([16, 6, 5, 5], fanIn: 150, on: device), uniformParameter([16], fanIn: 150, on: device))
        dense = DenseStack([400, 120, 84, 10], on: device)
        x = Tensor.normal([batch, 1, 28, 28], on: device)
        labels = randomLabels(batch, classes: 10, seed: 54, on: device)
        optimizer = MomentumSGD([conv1.w, conv1.b, conv2.w, conv2.b] + dense.parameters,
                                learningRate: 0.01, momentum: 0.9)
    }

    func step() {
        let c1 = x.conv2d(weight: conv1.w, bias: conv1.b, padding: (2, 2)).relu().maxPool2d(kernel: (2, 2))
        let c2 = c1.conv2d(weight: conv2.w, bias: conv2.b).relu().maxPool2d(kernel: (2, 2))
        optimizer.train(logits: dense(c2.reshaped([batch, 400])), labels: labels)
    }

    var parameterCount: Int { optimizer.parameters.map(\.count).reduce(0, +) }
}

/// A character language model, the `nntrain char-lstm` model through the
/// library's modules: Embedding(vocabulary, embedding), LSTM(embedding,
/// hidden), Linear(hidden, vocabulary) on every step's output, mean softmax
/// cross-entropy against the next characters, gradient-norm clipping at 5,
/// Adam.
final class CharLSTMModel: TrainingModel {
    private let embedding: Embedding
    private let lstm: LSTM
    private let decoder: Linear
    private let tokens: Tensor
    private let targets: Tensor
    private let parameters: [Parameter]
    private let optimizer: Adam

    init(vocabulary: Int, embeddingSize: Int, hiddenSize: Int, batch: Int, steps: Int, on device: Device) {
        Random.manualSeed(55)
        embedding = Embedding(vocabulary, embeddingSize, device: device)
        lstm = LSTM(embeddingSize, hiddenSize, device: device)
        decoder = Linear(hiddenSize, vocabulary, device: device)
        // Time-major [T, B] tokens, as nntrain char-lstm feeds them.
        let ids = (0..<steps * batch).map { Int32(Philox.uniform($0, seed: 56, stream: 0) * Float(vocabulary)) % Int32(vocabulary) }
        tokens = Tensor(int32: ids, shape: [steps, batch], on: device)
        targets = randomLabels(steps * batch, classes: vocabulary, seed: 57, on: device)
        parameters = embedding.parameters() + lstm.parameters() + decoder.parameters()
        optimizer = Adam(parameters, learningRate: 2e-3)
    }

    func step() {
        let out = lstm(embedding(tokens))
        let logits = decoder(out.reshaped([out.shape[0] * out.shape[1], lstm.hiddenSize]))
        let loss = Tensor.softmaxCrossEntropy(logits: logits, labels: targets).mean()
        optimizer.zeroGrad()
        loss.backward()
        _ = clipGradNorm(parameters, maxNorm: 5)
        optimizer.step()
    }

    var parameterCount: Int { parameters.map { $0.value.count }.reduce(0, +) }
}
