import Foundation

/// Hooks that `Trainer.fit` calls around every optimizer step and after
/// every epoch (`Trainer.monitor`).
public protocol TrainingMonitor: AnyObject {
    /// After `backward()`, before the optimizer's step: the gradients are there.
    func beforeStep(_ model: Module)
    /// After the optimizer's step.
    func afterStep(_ model: Module)
    /// After the epoch (and its validation).
    func afterEpoch(_ model: Module, epoch: Int) throws
}

/// What the course teaches to watch while a network trains, computed on the
/// device and read back once per epoch:
///
/// - per layer and step, the update/weight ratio ‖Δw‖ / ‖w‖ (about 1e-3 is
///   healthy), with a warning naming the layer when it stays above 1e-2
///   ("learning rate too high?") or below 1e-4 ("too low?") for a whole epoch;
/// - per layer and epoch, histograms of the activations of a fixed probe
///   batch (layer by layer through a `Sequential`; the output alone for
///   other models) and of the weight gradients of the epoch's last step,
///   in `bins` equal bins between each tensor's minimum and maximum;
/// - the fraction of dead ReLU units (zero for every probe sample) and of
///   saturated tanh (|y| ≥ 0.99) and sigmoid (y ≤ 0.01 or ≥ 0.99) outputs;
/// - the first layer's filters as a PNG grid: a Conv2d's kernels (averaged
///   over the input channels), or a Linear layer on `imageSide`²-pixel inputs
///   as one `imageSide` x `imageSide` tile per unit.
///
/// The ratio needs the weights from before each step: a device copy of
/// every watched weight per step, which is the price of watching.
///
/// With a `directory`, every epoch rewrites `update_ratios.csv`,
/// `histograms.csv` and `units.csv` there and adds
/// `histograms-epoch-<e>.svg` (small multiples) and `filters-epoch-<e>.png`.
public final class TrainingDiagnostics: TrainingMonitor {
    public struct Ratio: Equatable, Sendable {
        public let epoch: Int, step: Int, layer: String, value: Double
    }
    public struct Histogram: Equatable, Sendable {
        public enum Kind: String, Sendable { case activation, gradient }
        public let epoch: Int, kind: Kind, layer: String
        public let low: Double, high: Double
        public let counts: [Int]
    }
    public struct UnitFraction: Equatable, Sendable {
        public let epoch: Int, layer: String, measure: String, value: Double
    }

    public let directory: URL?
    public let probe: Tensor?
    public let bins: Int
    public let imageSide: Int?
    /// Ratios outside this range for a whole epoch get a warning.
    public let healthyRatios: ClosedRange<Double>
    /// Print each warning on standard error as it is found.
    public var printsWarnings = true

    public private(set) var ratios: [Ratio] = []
    public private(set) var histograms: [Histogram] = []
    public private(set) var unitFractions: [UnitFraction] = []
    public private(set) var warnings: [String] = []

    private var step = 0
    private var before: [(name: String, parameter: Parameter, value: Tensor)] = []
    private var pendingRatios: [(step: Int, layer: String, value: Tensor)] = []
    private var lastGradients: [(layer: String, gradient: Tensor)] = []

    public init(directory: URL? = nil, probe: Tensor? = nil, bins: Int = 30, imageSide: Int? = 28,
                healthyRatios: ClosedRange<Double> = 1e-4...1e-2) throws {
        require(bins >= 2, "TrainingDiagnostics: bins must be at least 2, got \(bins)")
        if let directory { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        (self.directory, self.probe, self.bins, self.imageSide, self.healthyRatios) = (directory, probe, bins, imageSide, healthyRatios)
    }

    /// The layers watched: every weight of rank 2 or more (Linear, Conv2d,
    /// recurrent matrices), by state-dict name.
    private func weights(_ model: Module) -> [(name: String, parameter: Parameter)] {
        model.namedParameters().filter { $0.parameter.value.rank >= 2 }
    }

    public func beforeStep(_ model: Module) {
        let watched = weights(model)
        before = withNoGrad { watched.map { ($0.name, $0.parameter, $0.parameter.value.detached().copied()) } }
        lastGradients = watched.compactMap { name, p in p.grad.map { (name, $0.detached()) } }
    }

    public func afterStep(_ model: Module) {
        step += 1
        withNoGrad {
            for (name, parameter, old) in before {
                let w = parameter.value.detached()
                let ratio = (w - old).square().sum().sqrt() / (w.square().sum().sqrt() + 1e-30)
                pendingRatios.append((step, name, ratio))
            }
        }
        before = []
    }

    public func afterEpoch(_ model: Module, epoch: Int) throws {
        // Everything this epoch measured, as device tensors, in one read.
        enum Piece { case ratio, histogram(Histogram.Kind, String), fraction(String, String) }
        var pieces: [(Piece, Tensor)] = pendingRatios.map { (.ratio, $0.value.reshaped([1])) }
        withNoGrad {
            for (layer, gradient) in lastGradients { pieces.append((.histogram(.gradient, layer), histogramTensor(gradient))) }
            for (layer, output, module) in probeActivations(model) {
                pieces.append((.histogram(.activation, layer), histogramTensor(output)))
                if let (measure, fraction) = unitFraction(output, after: module) {
                    pieces.append((.fraction(layer, measure), fraction.reshaped([1])))
                }
            }
        }
        let dtype = pieces.first?.1.dtype ?? .float32
        let values = pieces.isEmpty ? [] : try Tensor.concatenate(pieces.map { $0.1.to(dtype: dtype) }, axis: 0)
            .to(dtype: .float64).toArray(as: Double.self)

        var offset = 0
        var epochRatios: [String: [Double]] = [:], layerOrder: [String] = []
        for pending in pendingRatios {
            ratios.append(Ratio(epoch: epoch, step: pending.step, layer: pending.layer, value: values[offset]))
            if epochRatios[pending.layer] == nil { layerOrder.append(pending.layer) }
            epochRatios[pending.layer, default: []].append(values[offset])
            offset += 1
        }
        for (piece, tensor) in pieces.dropFirst(pendingRatios.count) {
            switch piece {
            case .histogram(let kind, let layer):
                let cumulative = values[offset..<offset + bins].map { Int($0.rounded()) }
                let counts = (0..<bins).map { b in b == bins - 1 ? cumulative[b] : cumulative[b] - cumulative[b + 1] }
                histograms.append(Histogram(epoch: epoch, kind: kind, layer: layer, low: values[offset + bins],
                                            high: values[offset + bins + 1], counts: counts))
            case .fraction(let layer, let measure):
                unitFractions.append(UnitFraction(epoch: epoch, layer: layer, measure: measure, value: values[offset]))
            case .ratio: break
            }
            offset += tensor.count
        }
        pendingRatios = []
        lastGradients = []

        for layer in layerOrder {
            let r = epochRatios[layer]!.sorted(), median = r[r.count / 2]
            let advice: String?
            if r.allSatisfy({ $0 > healthyRatios.upperBound }) {
                advice = "above \(healthyRatios.upperBound): learning rate too high?"
            } else if r.allSatisfy({ $0 < healthyRatios.lowerBound }) {
                advice = "below \(healthyRatios.lowerBound): learning rate too low?"
            } else {
                advice = nil
            }
            if let advice {
                let warning = "epoch \(epoch): layer \(layer): update/weight ratio stayed \(advice) "
                    + "(median \(String(format: "%.2g", median)) over \(r.count) steps)"
                warnings.append(warning)
                if printsWarnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            }
        }
        if let directory { try write(to: directory, epoch: epoch, model: model) }
    }

    // MARK: On the device

    /// [cumulative counts of x >= edge_b for b in 0..<bins, min, max]: the
    /// edges split [min, max] into equal bins; the last bin holds the max.
    /// Done in chunks so that the [bins, chunk] comparison stays small.
    func histogramTensor(_ x: Tensor) -> Tensor {
        let flat = x.detached().reshaped([x.count])
        let low = flat.min(), high = flat.max()
        let ramp = Tensor((0..<bins).map { Float($0) / Float(bins) }, shape: [bins, 1], on: x.device).to(dtype: x.dtype)
        let edges = ramp * (high - low) + low  // [bins, 1]
        let chunk = 1 << 16
        var cumulative: Tensor?
        for start in stride(from: 0, to: flat.count, by: chunk) {
            let part = flat.slice(axis: 0, start..<Swift.min(start + chunk, flat.count)).reshaped([1, Swift.min(chunk, flat.count - start)])
            let atLeast = TrainingDiagnostics.atLeast(part, edges).sum(axis: 1)
            cumulative = cumulative.map { $0 + atLeast } ?? atLeast
        }
        return Tensor.concatenate([cumulative!, low.reshaped([1]), high.reshaped([1])], axis: 0)
    }

    /// 1 where a >= b, else 0, exactly: sign is -1, 0 or 1.
    static func atLeast(_ a: Tensor, _ b: Tensor) -> Tensor { ((a - b).sign() * 2 + 1).clamp(min: 0, max: 1) }

    /// Dead ReLUs (units zero for every probe sample) or saturated tanh and
    /// sigmoid outputs, as a fraction, for the output of `module`.
    func unitFraction(_ y: Tensor, after module: Module?) -> (String, Tensor)? {
        switch module {
        case is ReLU: return ("dead ReLU", 1 - y.max(axis: 0).sign().mean())
        case is Tanh: return ("saturated tanh", TrainingDiagnostics.atLeast(y.abs(), Tensor.full([], 0.99, dtype: y.dtype, on: y.device)).mean())
        case is Sigmoid:
            return ("saturated sigmoid", TrainingDiagnostics.atLeast((y * 2 - 1).abs(), Tensor.full([], 0.98, dtype: y.dtype, on: y.device)).mean())
        default: return nil
        }
    }

    /// Each layer's output for the probe batch, in evaluation mode (through
    /// a Sequential layer by layer, otherwise the model's output).
    private func probeActivations(_ model: Module) -> [(layer: String, output: Tensor, module: Module?)] {
        guard let probe else { return [] }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        guard let sequential = model as? Sequential else { return [("output", model(probe), nil)] }
        var x = probe, outputs: [(String, Tensor, Module?)] = []
        for (name, layer) in sequential.children {
            x = layer(x)
            outputs.append(("\(name) \(type(of: layer))", x, layer))
        }
        return outputs
    }

    // MARK: Files

    private func write(to directory: URL, epoch: Int, model: Module) throws {
        func save(_ text: String, _ name: String) throws {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
        }
        try save((["epoch,step,layer,ratio"] + ratios.map { "\($0.epoch),\($0.step),\($0.layer),\($0.value)" })
                    .joined(separator: "\n") + "\n", "update_ratios.csv")
        var rows = ["epoch,kind,layer,bin,low,high,count"]
        for h in histograms {
            let width = (h.high - h.low) / Double(bins)
            for (b, count) in h.counts.enumerated() {
                rows.append("\(h.epoch),\(h.kind.rawValue),\(h.layer),\(b),\(h.low + width * Double(b)),\(h.low + width * Double(b + 1)),\(count)")
            }
        }
        try save(rows.joined(separator: "\n") + "\n", "histograms.csv")
        try save((["epoch,layer,measure,fraction"] + unitFractions.map { "\($0.epoch),\($0.layer),\($0.measure),\($0.value)" })
                    .joined(separator: "\n") + "\n", "units.csv")
        try save(histogramSVG(histograms.filter { $0.epoch == epoch }, epoch: epoch), "histograms-epoch-\(epoch).svg")
        if let image = try filterImage(model) {
            try PNG.writeGrayscale(width: image.width, height: image.height, pixels: image.pixels,
                                   to: directory.appendingPathComponent("filters-epoch-\(epoch).png"))
        }
    }

    /// Small multiples: one bar chart per histogram, activations then
    /// gradients, four to a row.
    func histogramSVG(_ histograms: [Histogram], epoch: Int) -> String {
        let columns = 4, panelWidth = 220.0, panelHeight = 130.0
        let rows = (histograms.count + columns - 1) / columns
        let width = Int(panelWidth) * columns, height = Int(panelHeight) * Swift.max(rows, 1) + 24
        var body = "<text x=\"6\" y=\"16\" font-weight=\"bold\">epoch \(epoch): activations (blue) and weight gradients (orange)</text>\n"
        for (i, h) in histograms.enumerated() {
            let x0 = Double(i % columns) * panelWidth, y0 = 24 + Double(i / columns) * panelHeight
            let left = x0 + 8, right = x0 + panelWidth - 8, top = y0 + 18, bottom = y0 + panelHeight - 20
            let peak = Double(h.counts.max() ?? 1), barWidth = (right - left) / Double(h.counts.count)
            body += "<text x=\"\(left)\" y=\"\(y0 + 12)\">\(escaped(h.layer))</text>\n"
            for (b, count) in h.counts.enumerated() where count > 0 {
                let barHeight = (bottom - top) * Double(count) / Swift.max(peak, 1)
                body += "<rect x=\"\(left + Double(b) * barWidth)\" y=\"\(bottom - barHeight)\" width=\"\(Swift.max(barWidth - 1, 0.5))\" "
                    + "height=\"\(barHeight)\" fill=\"\(h.kind == .activation ? "#1f77b4" : "#ff7f0e")\"/>\n"
            }
            body += "<text x=\"\(left)\" y=\"\(bottom + 13)\">\(String(format: "%.3g", h.low))</text>\n"
            body += "<text x=\"\(right)\" y=\"\(bottom + 13)\" text-anchor=\"end\">\(String(format: "%.3g", h.high))</text>\n"
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="10">
        <rect width="100%" height="100%" fill="white"/>
        \(body)</svg>

        """
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }

    /// The first layer's weights as a grid of tiles (at most 100), each tile
    /// stretched to its own min..max, one pixel of gap between tiles.
    func filterImage(_ model: Module) throws -> (width: Int, height: Int, pixels: [UInt8])? {
        guard let first = model.namedParameters().first(where: { $0.parameter.value.rank >= 2 })?.parameter.value else { return nil }
        let w = try first.to(dtype: .float64).toArray(as: Double.self)
        let tiles: [[Double]], side: (rows: Int, columns: Int)
        if first.rank == 4 {
            let (o, i, kh, kw) = (first.shape[0], first.shape[1], first.shape[2], first.shape[3])
            side = (kh, kw)
            tiles = (0..<o).map { unit in
                (0..<kh * kw).map { p in (0..<i).map { c in w[((unit * i + c) * kh * kw) + p] }.reduce(0, +) / Double(i) }
            }
        } else if first.rank == 2, let n = imageSide, first.shape[1] == n * n {
            side = (n, n)
            tiles = (0..<first.shape[0]).map { unit in Array(w[unit * n * n..<(unit + 1) * n * n]) }
        } else {
            return nil
        }
        let shown = Array(tiles.prefix(100))
        let columns = Int(Double(shown.count).squareRoot().rounded(.up)), rows = (shown.count + columns - 1) / columns
        let scale = Swift.max(1, 32 / Swift.max(side.rows, side.columns))
        let tileHeight = side.rows * scale, tileWidth = side.columns * scale
        let width = columns * (tileWidth + 1) + 1, height = rows * (tileHeight + 1) + 1
        var pixels = [UInt8](repeating: 128, count: width * height)
        for (t, tile) in shown.enumerated() {
            let lo = tile.min()!, hi = tile.max()!, span = hi > lo ? hi - lo : 1
            let x0 = 1 + (t % columns) * (tileWidth + 1), y0 = 1 + (t / columns) * (tileHeight + 1)
            for y in 0..<tileHeight {
                for x in 0..<tileWidth {
                    let v = tile[(y / scale) * side.columns + x / scale]
                    pixels[(y0 + y) * width + x0 + x] = UInt8(((v - lo) / span * 255).rounded())
                }
            }
        }
        return (width, height, pixels)
    }
}
