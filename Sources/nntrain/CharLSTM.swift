import ArgumentParser
import Foundation
import NN

/// A character-level language model: Embedding -> LSTM -> Linear to the
/// vocabulary, predicting each next character. Tokens arrive time-major
/// [T, B], so nothing is transposed on the way through the LSTM.
final class CharLanguageModel: Module, @unchecked Sendable {
    let embedding: Embedding
    let lstm: LSTM
    let decoder: Linear

    init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, device: Device) {
        embedding = Embedding(vocabularySize, embeddingSize, device: device)
        lstm = LSTM(embeddingSize, hiddenSize, device: device)
        decoder = Linear(hiddenSize, vocabularySize, device: device)
        super.init()
        register(module: "embedding", embedding)
        register(module: "lstm", lstm)
        register(module: "decoder", decoder)
    }

    /// Logits [T * B, V] for tokens [T, B], and the LSTM's final state.
    func callAsFunction(_ tokens: Tensor, state: (h: Tensor, c: Tensor)?) -> (logits: Tensor, state: (h: Tensor, c: Tensor)) {
        let (out, next) = lstm(embedding(tokens), state: state)
        return (decoder(out.reshaped([out.shape[0] * out.shape[1], lstm.hiddenSize])), next)
    }

    override func forward(_ tokens: Tensor) -> Tensor { self(tokens, state: nil).logits }
}

/// `nntrain char-lstm`: trains the character LSTM on tinyshakespeare (first
/// 90% train, last 10% validation) with Adam and gradient-norm clipping,
/// reports the validation loss in nats per character and can sample text.
struct CharLSTM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "char-lstm", abstract: "Train a character-level LSTM language model on tinyshakespeare.")

    @OptionGroup var options: CommonOptions

    @Option(help: "UTF-8 text file to train on.")
    var data: String = "../shared/data/tinyshakespeare/input.txt"

    @Option(help: "Training steps (batches).")
    var steps: Int = 1000

    @Option(name: .customLong("batch-size"), help: "Sequences per batch.")
    var batchSize: Int = 32

    @Option(name: .customLong("seq-len"), help: "Characters per sequence (steps of backpropagation through time).")
    var seqLen: Int = 64

    @Option(name: .customLong("embedding-size"), help: "Embedding size.")
    var embeddingSize: Int = 64

    @Option(name: .customLong("hidden-size"), help: "LSTM hidden size.")
    var hiddenSize: Int = 256

    @Option(help: "Adam learning rate.")
    var lr: Double = 2e-3

    @Option(help: "Clip the gradients' global L2 norm to this value (0: no clipping).")
    var clip: Double = 5

    @Option(name: .customLong("eval-every"), help: "Measure the validation loss every N steps (and after the last).")
    var evalEvery: Int = 250

    @Option(name: .customLong("log-every"), help: "Print the mean training loss every N steps.")
    var logEvery: Int = 100

    @Option(help: "After training, print N characters sampled from the model.")
    var sample: Int = 0

    @Option(help: "Sampling temperature (lower: more conservative).")
    var temperature: Double = 0.8

    @Option(help: "Text the sample starts from.")
    var prime: String = "ROMEO:"

    @Option(help: "Save the trained weights (safetensors, PyTorch state-dict names).")
    var save: String?

    @Option(help: "Write a training checkpoint (weights, Adam state, step, running sums) here every --checkpoint-every steps.")
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), help: "Steps between training checkpoints (default: --eval-every).")
    var checkpointEvery: Int?

    @Option(help: "Resume from this training checkpoint and run to --steps (keeps writing --checkpoint, or this file without it).")
    var resume: String?

    @Option(name: .customLong("metrics-csv"), help: "Write the metrics of every evaluation interval as CSV (one row per --eval-every steps).")
    var metricsCSV: String?

    @Option(help: "Write the loss curves as SVG.")
    var svg: String?

    @OptionGroup var parallel: DistributedOptions

    func validate() throws {
        for (value, option) in [(steps, "--steps"), (batchSize, "--batch-size"), (seqLen, "--seq-len"),
                                (embeddingSize, "--embedding-size"), (hiddenSize, "--hidden-size"), (evalEvery, "--eval-every"),
                                (logEvery, "--log-every")] {
            try OptionChecks.atLeastOne(value, option)
        }
        try OptionChecks.positive(lr, "--lr")
        try OptionChecks.positive(temperature, "--temperature")
        try OptionChecks.nonNegative(clip, "--clip")
        try OptionChecks.nonNegative(Double(sample), "--sample")
        try OptionChecks.readableFile(data, "--data")
        if let checkpointEvery { try OptionChecks.atLeastOne(checkpointEvery, "--checkpoint-every") }
        try OptionChecks.writableFile(save, "--save")
        try OptionChecks.checkpointFiles(checkpoint: checkpoint, resume: resume)
        try OptionChecks.writableFile(metricsCSV, "--metrics-csv")
        try OptionChecks.writableFile(svg, "--svg")
    }

    func run() throws {
        try TrainingRank.run(parallel) { rank in try train(rank) }
    }

    /// The run, in this process alone or as one rank of a distributed job:
    /// each rank takes its windows of the batch of all ranks (batch size ×
    /// ranks windows per step, drawn as one process would draw them).
    private func train(_ rank: TrainingRank) throws {
        let say = rank.say
        // A running sum's mean over the ranks (its value alone).
        func rankMean(_ sum: Tensor) throws -> Double { try rank.sum([sum.scalarDouble()])[0] / Double(rank.size) }
        let device = try options.selectDevice()
        Random.manualSeed(options.seed)
        let corpus: CharacterCorpus
        do {
            corpus = try CharacterCorpus(contentsOf: URL(fileURLWithPath: data))
        } catch {
            throw ValidationError("\(error)\n(pass --data FILE; the project's copy is ../shared/data/tinyshakespeare/input.txt)")
        }
        let (trainTokens, validationTokens) = corpus.split(trainFraction: 0.9)
        // A window is seqLen inputs and the next character of each.
        guard validationTokens.count > seqLen else {
            throw ValidationError("--seq-len \(seqLen): \(data) has \(corpus.tokens.count) characters, so its 10% validation part "
                                  + "(\(validationTokens.count)) holds no window of \(seqLen + 1); use a shorter --seq-len or a longer text")
        }
        let vocabularySize = corpus.vocabulary.count
        say("\(data): \(corpus.tokens.count) characters, vocabulary \(vocabularySize); \(trainTokens.count) train / "
            + "\(validationTokens.count) validation; on \(device)"
            + (rank.size > 1 ? " (each of \(rank.size) ranks: \(batchSize) of the \(batchSize * rank.size) sequences of a step)" : ""))

        let model = CharLanguageModel(vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                      device: device)
        let parallel = try rank.dataParallel(model)
        let parameters = model.parameters()
        let optimizer = Adam(parameters, learningRate: lr)
        let training = SequenceBatches(tokens: trainTokens, sequenceLength: seqLen, batchSize: batchSize * rank.size)
        // Each rank evaluates every size-th validation batch; the sums are added.
        let validation = SequenceBatches(tokens: validationTokens, sequenceLength: seqLen, batchSize: 256)
            .sequential(on: device, shard: rank.shard(padded: false))

        var metrics = MetricsLog()
        var trainingSeconds = 0.0, validationLoss = Double.nan, lastTrainLoss = Double.nan
        var intervalLoss = Tensor.zeros([], on: device), intervalSteps = 0
        var logLoss = Tensor.zeros([], on: device), logSteps = 0
        var firstStep = 1

        // What decides the batches and the model: a resumed run must match.
        let run = "\(corpus.tokens.count) characters, vocabulary \(vocabularySize), batch \(batchSize), sequence \(seqLen), "
            + "seed \(options.seed), embedding \(embeddingSize), hidden \(hiddenSize)" + (rank.size > 1 ? ", \(rank.size) ranks" : "")
        let metadata = ["nntrain.model": "char-lstm", "char-lstm.run": run,
                        "vocabulary": corpus.decode((0..<Int32(vocabularySize)).map { $0 })]
        if let resume {
            let saved = try TrainingCheckpoint.read(from: URL(fileURLWithPath: resume))
            guard saved.metadata["char-lstm.run"] == run else {
                throw ValidationError("--resume \(resume): written by a run with \(saved.metadata["char-lstm.run"] ?? "another program"); "
                                      + "this run has \(run)")
            }
            try saved.restore(into: model, optimizer: optimizer, file: resume)
            let c = saved.progress.counters
            func counter(_ key: String) throws -> Double {
                guard let value = c[key] else { throw ValidationError("--resume \(resume): no '\(key)' in its training progress") }
                return value
            }
            firstStep = saved.progress.step + 1
            metrics = MetricsLog(epochs: saved.progress.metrics)
            (trainingSeconds, validationLoss, lastTrainLoss) = (try counter("training_seconds"), try counter("validation_loss"),
                                                                try counter("train_loss"))
            // The running sums, on every rank: alone they were float32
            // scalars and come back without rounding; distributed they are
            // the ranks' mean (the logged means stay right, rounded to float).
            intervalLoss = Tensor([Float(try counter("interval_loss"))], shape: [], on: device)
            logLoss = Tensor([Float(try counter("log_loss"))], shape: [], on: device)
            (intervalSteps, logSteps) = (Int(try counter("interval_steps")), Int(try counter("log_steps")))
            say("resumed from \(resume) after step \(saved.progress.step)")
        }
        // Every rank must start from the same step (the same checkpoint).
        try parallel?.agree("char-lstm", firstStep == 1 ? "a fresh start" : "resuming after step \(firstStep - 1)")
        let checkpointURL = (checkpoint ?? resume).map { URL(fileURLWithPath: $0) }
        var clock = Date()
        for step in stride(from: firstStep, through: steps, by: 1) {
            let (inputs, targets) = training.random(step: step, seed: options.seed, on: device, shard: rank.shard(padded: true))
            let loss = Tensor.softmaxCrossEntropy(logits: model(inputs, state: nil).logits, labels: targets).mean()
            optimizer.zeroGrad()
            loss.backward()
            try parallel?.synchronizeGradients()
            if clip > 0 { _ = clipGradNorm(parameters, maxNorm: clip) }
            optimizer.step()
            // Summed on the device: reading the loss every step would wait
            // for the device every step.
            withNoGrad {
                logLoss = logLoss + loss
                intervalLoss = intervalLoss + loss
            }
            logSteps += 1
            intervalSteps += 1

            if step % logEvery == 0 || step == steps {
                let mean = try rankMean(logLoss) / Double(logSteps)  // waits for the device
                try TrainingFailure.checkFinite(mean, step: step, hint: "lower --lr or keep --clip above 0")
                trainingSeconds += Date().timeIntervalSince(clock)
                lastTrainLoss = mean
                say("step \(step)/\(steps)  train loss \(String(format: "%.4f", mean))  "
                    + "\(String(format: "%.1f", trainingSeconds / Double(step) * 1000)) ms/step")
                logLoss = Tensor.zeros([], on: device)
                logSteps = 0
                clock = Date()
            }
            if step % evalEvery == 0 || step == steps {
                trainingSeconds += Date().timeIntervalSince(clock)
                validationLoss = try evaluate(model, on: validation, rank: rank)
                say("step \(step)/\(steps)  validation loss \(String(format: "%.4f", validationLoss)) nats/char")
                metrics.append(.init(epoch: metrics.epochs.count + 1, trainLoss: try rankMean(intervalLoss) / Double(intervalSteps),
                                     validationLoss: validationLoss, seconds: trainingSeconds))
                intervalLoss = Tensor.zeros([], on: device)
                intervalSteps = 0
                clock = Date()
            }
            if let checkpointURL, step % (checkpointEvery ?? evalEvery) == 0 || step == steps {
                trainingSeconds += Date().timeIntervalSince(clock)
                let counters = ["training_seconds": trainingSeconds, "validation_loss": validationLoss, "train_loss": lastTrainLoss,
                                "interval_loss": try rankMean(intervalLoss), "interval_steps": Double(intervalSteps),
                                "log_loss": try rankMean(logLoss), "log_steps": Double(logSteps)]
                if rank.isPrimary {
                    try TrainingCheckpoint(model: model, optimizer: optimizer,
                                           progress: TrainingProgress(epoch: 0, step: step, metrics: metrics.epochs, counters: counters),
                                           metadata: metadata).write(to: checkpointURL)
                }
                clock = Date()
            }
        }
        let msPerStep = trainingSeconds / Double(steps) * 1000
        guard rank.isPrimary else { return }
        print("validation loss \(String(format: "%.4f", validationLoss)) nats/char after \(steps) steps, "
              + "\(String(format: "%.1f", msPerStep)) ms/step (\(String(format: "%.1f", trainingSeconds)) s training) on \(device)")

        if sample > 0 {
            print("--- sample (temperature \(temperature)) ---")
            print(try generate(model, corpus: corpus, count: sample, device: device))
        }
        if let metricsCSV { try metrics.writeCSV(to: metricsCSV) }
        if let svg { try metrics.writeSVG(to: svg) }
        if let save {
            try model.save(checkpoint: URL(fileURLWithPath: save),
                           metadata: metadata.merging(["model": "char-lstm emb \(embeddingSize) lstm \(hiddenSize)"]) { $1 })
            print("saved \(save)")
        }
        try options.writeJSON(["val_loss": validationLoss, "train_loss": lastTrainLoss, "steps": steps,
                               "ms_per_step": msPerStep, "seconds": trainingSeconds, "vocabulary_size": vocabularySize,
                               "backend": device.name]
                                .merging(rank.jsonFields(samples: Double(steps * batchSize * rank.size), seconds: trainingSeconds)) { $1 })
    }

    /// Mean cross-entropy per character over the validation windows, each
    /// run from a zero state (each rank's batches, summed over the ranks).
    private func evaluate(_ model: CharLanguageModel, on batches: [(inputs: Tensor, targets: Tensor)], rank: TrainingRank) throws -> Double {
        model.eval()
        defer { model.train() }
        var total = 0.0, count = 0
        try withNoGrad {
            for (inputs, targets) in batches {
                let loss = Tensor.softmaxCrossEntropy(logits: model(inputs, state: nil).logits, labels: targets).sum()
                total += try loss.scalarDouble()
                count += targets.count
            }
        }
        let sums = try rank.sum([total, Double(count)])
        return sums[0] / sums[1]
    }

    /// `count` characters continuing `prime`, drawn from softmax(logits /
    /// temperature) with a seeded counter-based stream.
    private func generate(_ model: CharLanguageModel, corpus: CharacterCorpus, count: Int, device: Device) throws -> String {
        guard let primed = corpus.encode(prime), !primed.isEmpty else {
            throw ValidationError("--prime must be non-empty and use only characters of the corpus")
        }
        model.eval()
        defer { model.train() }
        return try withNoGrad {
            var state: (h: Tensor, c: Tensor)?
            var logits = Tensor.zeros([1, corpus.vocabulary.count], on: device)
            for token in primed {
                (logits, state) = model(Tensor(int32: [token], shape: [1, 1], on: device), state: state)
            }
            var generated: [Int32] = []
            for i in 0..<count {
                let probabilities = try (logits * (1 / temperature)).softmax(axis: -1).toArray()
                let u = Double(Philox.uniform(i, seed: options.seed, stream: 0x5A4D_504C))  // "SMPL"
                var cumulative = 0.0, next = Int32(probabilities.count - 1)
                for (k, p) in probabilities.enumerated() {
                    cumulative += Double(p)
                    if u < cumulative { next = Int32(k); break }
                }
                generated.append(next)
                (logits, state) = model(Tensor(int32: [next], shape: [1, 1], on: device), state: state)
            }
            return prime + corpus.decode(generated)
        }
    }
}
