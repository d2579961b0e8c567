import NN

/// LSTM and GRU forward plus backward over a sequence, through the
/// tensor-op layer (`TensorRecurrentLayer`): one training pass of the layer
/// as DeepBench's RNN benchmark times it (gradients for the weights and the
/// input, from a given output gradient).
enum RecurrentSuite {
    struct Config {
        let kind: TensorRecurrentLayer.Kind
        let input, hidden, batch, steps: Int

        var name: String { "\(kind.rawValue) in\(input) h\(hidden) b\(batch) T\(steps) (tensor ops)" }
    }

    static func configs(_ scale: Scale) -> [Config] {
        switch scale {
        case .standard:
            return [
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
        let layer = TensorRecurrentLayer(config.kind, inputSize: config.input, hiddenSize: config.hidden, on: device)
        let rows = config.steps * config.batch
        // The input needs a gradient too (it would come from a layer below).
        let input = Tensor.normal([rows, config.input], on: device).requiringGrad()
        let gradOutput = Tensor.normal([rows, config.hidden], on: device)
        return {
            (layer.parameters + [input]).forEach { $0.zeroGrad() }
            let (output, projection) = layer.forward(input, steps: config.steps, batch: config.batch)
            output.backward(gradOutput)
            projection.backward()
        }
    }
}
