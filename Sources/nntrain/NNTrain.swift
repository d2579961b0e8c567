import ArgumentParser
import Foundation
import NN

@main
struct NNTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nntrain",
        abstract: "Training programs built on the NN library.",
        subcommands: [MNISTLeNet.self, MNISTMLP.self, MNISTResNet.self, CharLSTM.self, XOR.self, Predict.self, Search.self],
        defaultSubcommand: MNISTLeNet.self)
}

/// Options every training program takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Backend: cpu, auto, opencl or opencl:<platform>:<device> (default: $NN_BACKEND or auto).")
    var backend: String?

    @Option(help: "Random seed for initialization and shuffling.")
    var seed: UInt64 = 0

    @Option(help: "Write final metrics as JSON to this file.")
    var json: String?

    func validate() throws {
        try OptionChecks.writableFile(json, "--json")
    }

    /// Selects the device named by --backend (or the environment) and makes
    /// it the default, throwing a readable error for a bad name.
    func selectDevice() throws -> Device {
        let spec = backend ?? ProcessInfo.processInfo.environment["NN_BACKEND"] ?? "auto"
        do {
            let device = try Device.named(spec)
            Device.default = device
            return device
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func writeJSON(_ metrics: [String: Any]) throws {
        guard let json else { return }
        let data = try JSONSerialization.data(withJSONObject: metrics, options: [.prettyPrinted, .sortedKeys])
        let url = URL(fileURLWithPath: json)
        try data.write(to: url, options: .atomic)
    }
}
