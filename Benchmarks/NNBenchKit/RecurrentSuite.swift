import NN

/// LSTM and GRU forward plus backward over a sequence through the library's
/// modules (fused cells): one training pass of the layer as DeepBench's RNN
/// benchmark times it (gradients for the weights and the input, from a
/// given output gradient).
enum RecurrentSuite {
    enum Kind: String { case lstm = "LSTM", gru = "GRU" }

    struct Config {
        let kind: Kind
        let input, hidden, batch, steps: Int

        var name: String { "\(kind.rawValue) in\(input) h\(hidden) b\(batch) T\(steps)" }
    }

    static func configs(_ scale: Scale) -> [Config] {
        switch scale {
        case .standard, .large:
            return [
                // The char-LSTM layer of the train suite, on its own.
                Config(kind: .lstm, input: 64, hidden: 256, batch: 32, steps: 64),
                Config(kind: .lstm, input: 256, hidden: 256, batch: 32, steps: 64),
                Config(kind: .lstm, input: 512, hidden: 512, batch: 16, steps: 25),
                Config(kind: .gru, input: 256, hidden: 256, batch: 32, steps: 64),
                Config(kind: .gru, input: 512, hidden: 512, batch: 16, steps: 25),
            ]
        case .tiny:
            return [Config(kind: .lstm, input: 5, hidden: 8, batch: 2, steps: 3),
                    Config(kind: .gru, input: 5, hidden: 8, batch: 2, steps: 3)]
        }
    }

    static func cases(_ scale: Scale) -> [BenchmarkCase] {
        configs(scale).map { config in
            BenchmarkCase(.rnn, config.name, work: .none) { device in body(config, device) }
        }
    }

    static func body(_ config: Config, _ device: Device) -> () -> Void {
        Random.manualSeed(41)
        let layer: Module = config.kind == .lstm ? LSTM(config.input, config.hidden, device: device)
                                                 : GRU(config.input, config.hidden, device: device)
        // The input needs a gradient too (it would come from a layer below).
        let input = Tensor.normal([config.steps, config.batch, config.input], on: device).requiringGrad()
        let gradOutput = Tensor.normal([config.steps, config.batch, config.hidden], on: device)
        return {
            layer.zeroGrad()
            input.zeroGrad()
            layer(input).backward(gradOutput)
        }
    }
}
