import Foundation

/// Weight initializers with PyTorch's formulas (`torch.nn.init`).
///
/// Each makes a new tensor from the library's counter-based random numbers
/// (`Tensor.uniform` / `Tensor.normal`), so the same `Random.manualSeed`
/// gives the same values on every backend. Each also has an in-place form
/// taking a `Parameter`, like PyTorch's trailing-underscore functions:
///
///     let w = Init.kaimingNormal([256, 784], nonlinearity: .relu)
///     Init.xavierUniform(linear.weight)          // nn.init.xavier_uniform_(linear.weight)
///
/// Fan-in and fan-out follow `torch.nn.init._calculate_fan_in_and_fan_out`:
/// for a weight [out, in, k1, k2, ...] (Linear [out, in], Conv2d
/// [out, in, kh, kw]) the receptive field is k1 * k2 * ..., fan-in is
/// in * receptive field and fan-out is out * receptive field.
public enum Init {
    /// Which fan Kaiming initialization preserves: `fanIn` keeps the variance
    /// of the forward activations, `fanOut` that of the backward gradients.
    public enum FanMode: Sendable {
        case fanIn, fanOut
    }

    /// The nonlinearities `calculateGain` knows (PyTorch's names).
    public enum Nonlinearity: Sendable {
        case linear, conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d
        case sigmoid, tanh, relu, leakyReLU, selu
    }

    /// PyTorch's `calculate_gain`: 1 for linear, convolutions and sigmoid;
    /// 5/3 for tanh; sqrt(2) for ReLU; sqrt(2 / (1 + slope^2)) for leaky ReLU
    /// (`param` is the negative slope, 0.01 when nil); 3/4 for SELU.
    public static func calculateGain(_ nonlinearity: Nonlinearity, param: Double? = nil) -> Double {
        switch nonlinearity {
        case .linear, .conv1d, .conv2d, .conv3d, .convTranspose1d, .convTranspose2d, .convTranspose3d, .sigmoid:
            return 1
        case .tanh:
            return 5.0 / 3
        case .relu:
            return 2.0.squareRoot()
        case .leakyReLU:
            let slope = param ?? 0.01
            return (2 / (1 + slope * slope)).squareRoot()
        case .selu:
            return 3.0 / 4
        }
    }

    /// (fan-in, fan-out) of a weight of `shape` (at least 2-D), as PyTorch.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        require(shape.count >= 2,
                     "Init.fans: fan in and fan out need a tensor of at least 2 dimensions, got shape \(shape)")
        let receptiveField = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptiveField, shape[0] * receptiveField)
    }

    private static func fan(_ shape: [Int], _ mode: FanMode) -> Int {
        let f = fans(shape)
        return mode == .fanIn ? f.fanIn : f.fanOut
    }

    // MARK: Tensors

    /// U(low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               on device: Device = .default) -> Tensor {
        checkFloat("uniform", dtype)
        return Tensor.uniform(shape, low: low, high: high, dtype: dtype, on: device)
    }

    /// N(mean, std^2).
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              on device: Device = .default) -> Tensor {
        checkFloat("normal", dtype)
        return Tensor.normal(shape, mean: mean, std: std, dtype: dtype, on: device)
    }

    /// Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)).
    public static func xavierUniform(_ shape: [Int], gain: Double = 1, dtype: DType = .float32,
                                     on device: Device = .default) -> Tensor {
        let f = fans(shape)
        let std = gain * (2 / Double(f.fanIn + f.fanOut)).squareRoot()
        let bound = 3.0.squareRoot() * std
        return uniform(shape, low: -bound, high: bound, dtype: dtype, on: device)
    }

    /// Glorot/Xavier normal: N(0, std^2) with std = gain * sqrt(2 / (fanIn + fanOut)).
    public static func xavierNormal(_ shape: [Int], gain: Double = 1, dtype: DType = .float32,
                                    on device: Device = .default) -> Tensor {
        let f = fans(shape)
        let std = gain * (2 / Double(f.fanIn + f.fanOut)).squareRoot()
        return normal(shape, std: std, dtype: dtype, on: device)
    }

    /// He/Kaiming uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain =
    /// `calculateGain(nonlinearity, param: a)` (`a`: the negative slope of the
    /// leaky ReLU that follows; PyTorch's defaults a = 0, fan-in, leaky ReLU
    /// give gain sqrt(2)).
    public static func kaimingUniform(_ shape: [Int], a: Double = 0, mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyReLU, dtype: DType = .float32,
                                      on device: Device = .default) -> Tensor {
        let std = calculateGain(nonlinearity, param: a) / Double(fan(shape, mode)).squareRoot()
        let bound = 3.0.squareRoot() * std
        return uniform(shape, low: -bound, high: bound, dtype: dtype, on: device)
    }

    /// He/Kaiming normal: N(0, std^2) with std = gain / sqrt(fan).
    public static func kaimingNormal(_ shape: [Int], a: Double = 0, mode: FanMode = .fanIn,
                                     nonlinearity: Nonlinearity = .leakyReLU, dtype: DType = .float32,
                                     on device: Device = .default) -> Tensor {
        let std = calculateGain(nonlinearity, param: a) / Double(fan(shape, mode)).squareRoot()
        return normal(shape, std: std, dtype: dtype, on: device)
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, on device: Device = .default) -> Tensor {
        constant(shape, 0, dtype: dtype, on: device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, on device: Device = .default) -> Tensor {
        constant(shape, 1, dtype: dtype, on: device)
    }

    /// Every element `value`.
    public static func constant(_ shape: [Int], _ value: Double, dtype: DType = .float32,
                                on device: Device = .default) -> Tensor {
        checkFloat("constant", dtype)
        return Tensor.full(shape, value, dtype: dtype, on: device)
    }

    /// The identity matrix (PyTorch's `eye_`): ones on the main diagonal of a
    /// 2-D shape, zeros elsewhere; a non-square shape gets min(rows, columns)
    /// ones.
    public static func identity(_ shape: [Int], dtype: DType = .float32, on device: Device = .default) -> Tensor {
        require(shape.count == 2, "Init.identity: only 2-D shapes are supported, got \(shape)")
        checkFloat("identity", dtype)
        let rows = shape[0], columns = shape[1]
        var values = [Float](repeating: 0, count: rows * columns)
        for i in 0..<Swift.min(rows, columns) { values[i * columns + i] = 1 }
        return Tensor(values, shape: shape, on: device).to(dtype: dtype)
    }

    private static func checkFloat(_ name: String, _ dtype: DType) {
        require(dtype.isFloatingPoint, "Init.\(name): initializers make float tensors, got \(dtype)")
    }
}

// MARK: - In place, on parameters (PyTorch's nn.init.*_ functions)

extension Init {
    /// Replaces `parameter`'s value with `make(shape, dtype, device)` of its
    /// own shape, dtype and device (the parameter object stays the same, so
    /// optimizers holding it see the new values; its gradient is cleared).
    public static func fill(_ parameter: Parameter, _ make: (_ shape: [Int], _ dtype: DType, _ device: Device) -> Tensor) {
        parameter.value = withNoGrad { make(parameter.shape, parameter.value.dtype, parameter.device) }
    }

    public static func uniform(_ parameter: Parameter, low: Double = 0, high: Double = 1) {
        fill(parameter) { uniform($0, low: low, high: high, dtype: $1, on: $2) }
    }

    public static func normal(_ parameter: Parameter, mean: Double = 0, std: Double = 1) {
        fill(parameter) { normal($0, mean: mean, std: std, dtype: $1, on: $2) }
    }

    public static func xavierUniform(_ parameter: Parameter, gain: Double = 1) {
        fill(parameter) { xavierUniform($0, gain: gain, dtype: $1, on: $2) }
    }

    public static func xavierNormal(_ parameter: Parameter, gain: Double = 1) {
        fill(parameter) { xavierNormal($0, gain: gain, dtype: $1, on: $2) }
    }

    public static func kaimingUniform(_ parameter: Parameter, a: Double = 0, mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyReLU) {
        fill(parameter) { kaimingUniform($0, a: a, mode: mode, nonlinearity: nonlinearity, dtype: $1, on: $2) }
    }

    public static func kaimingNormal(_ parameter: Parameter, a: Double = 0, mode: FanMode = .fanIn,
                                     nonlinearity: Nonlinearity = .leakyReLU) {
        fill(parameter) { kaimingNormal($0, a: a, mode: mode, nonlinearity: nonlinearity, dtype: $1, on: $2) }
    }

    public static func zeros(_ parameter: Parameter) { fill(parameter) { zeros($0, dtype: $1, on: $2) } }
    public static func ones(_ parameter: Parameter) { fill(parameter) { ones($0, dtype: $1, on: $2) } }

    public static func constant(_ parameter: Parameter, _ value: Double) {
        fill(parameter) { constant($0, value, dtype: $1, on: $2) }
    }

    public static func identity(_ parameter: Parameter) { fill(parameter) { identity($0, dtype: $1, on: $2) } }
}
