/// Errors a user of nnbench can act on: each message names what was wrong
/// and what would be accepted instead.
public enum BenchmarkError: Error, CustomStringConvertible {
    case unknownDevice(spec: String, reason: String, available: String)
    case noDevices(available: String)
    case unknownSuite(name: String)
    case badRepeats(Int)
    case unreadableReport(path: String, reason: String)
    case unwritableFile(path: String, reason: String)
    case kernelPreparation(device: String, reason: String)
    case pytorchUnavailable(reason: String)
    case pytorchFailed(arguments: String, reason: String)

    public var description: String {
        switch self {
        case .unknownDevice(let spec, let reason, let available):
            return "cannot use device '\(spec)': \(reason). Devices on this machine: \(available) "
                + "(run `nnbench devices` for details)"
        case .noDevices(let available):
            return "no device selected; pass --devices with one or more of: \(available)"
        case .unknownSuite(let name):
            return "unknown suite '\(name)'; expected a comma-separated list of "
                + Suite.allCases.map(\.rawValue).joined(separator: ", ")
        case .badRepeats(let n):
            return "--repeats \(n): the number of timed repeats must be at least 1"
        case .unreadableReport(let path, let reason):
            return "cannot read nnbench results from \(path): \(reason) (expected a file written by `nnbench run --json`)"
        case .unwritableFile(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .kernelPreparation(let device, let reason):
            return "building the OpenCL kernels for \(device) failed: \(reason)"
        case .pytorchUnavailable(let reason):
            return "PyTorch is not available (\(reason)); install torch for python3, or point NN_PYTHON at an interpreter that has it"
        case .pytorchFailed(let arguments, let reason):
            return "PyTorch case (train_suite.py \(arguments)) failed: \(reason)"
        }
    }
}
