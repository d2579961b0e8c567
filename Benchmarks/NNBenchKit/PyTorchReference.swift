import Foundation

/// PyTorch timed in a child process beside the library's train-suite cases
/// (Benchmarks/pytorch/train_suite.py: the same models, shapes, optimizers
/// and timing rule), so the "vs pytorch" column is a measurement of this
/// run on this machine, not a figure quoted from another day.
public struct PyTorchReference {
    /// Whether `nnbench run` times PyTorch.
    public enum Mode: Sendable {
        /// When `python -c "import torch"` works; said and skipped otherwise.
        case auto
        /// Always; a missing torch is an error.
        case on
        case off
    }

    /// The interpreter: $NN_PYTHON, else python3 on the PATH.
    public let python: String
    public let script: URL
    /// torch.__version__.
    public let version: String
    /// torch.set_num_threads for every case: the machine's cores, as the
    /// library's CPU backend uses them.
    public let threads: Int

    /// The script in the checkout, found from this source file's place.
    public static var defaultScript: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("pytorch/train_suite.py")
    }

    /// PyTorch, or why it cannot be run.
    public static func locate(python: String? = nil, script: URL = defaultScript) -> Result<PyTorchReference, BenchmarkError> {
        let interpreter = python ?? ProcessInfo.processInfo.environment["NN_PYTHON"] ?? "python3"
        guard FileManager.default.fileExists(atPath: script.path) else {
            return .failure(.pytorchUnavailable(reason: "\(script.path) is missing"))
        }
        switch run(interpreter, ["-c", "import torch; print(torch.__version__)"]) {
        case .success(let output):
            let version = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return .success(PyTorchReference(python: interpreter, script: script, version: version,
                                             threads: ProcessInfo.processInfo.activeProcessorCount))
        case .failure(let failure):
            return .failure(.pytorchUnavailable(reason: "\(interpreter) -c 'import torch' failed: \(failure.reason)"))
        }
    }

    /// Times one case (`arguments` name the model and its shapes); returns
    /// the samples and the threads PyTorch says it used.
    func measure(_ arguments: [String], policy: TimingPolicy) throws -> (measurement: Measurement, threads: Int) {
        let all = [script.path] + arguments + ["--threads", "\(threads)", "--warmups", "\(policy.warmups)",
                                               "--min-seconds", "\(policy.minSeconds)", "--min-repeats", "\(policy.minRepeats)",
                                               "--max-repeats", "\(policy.maxRepeats)"]
        switch PyTorchReference.run(python, all) {
        case .failure(let failure):
            throw BenchmarkError.pytorchFailed(arguments: arguments.joined(separator: " "), reason: failure.reason)
        case .success(let output):
            struct Reply: Decodable { let samples_ms: [Double]; let threads: Int }
            guard let line = output.split(separator: "\n").last,
                  let reply = try? JSONDecoder().decode(Reply.self, from: Data(line.utf8)), !reply.samples_ms.isEmpty else {
                throw BenchmarkError.pytorchFailed(arguments: arguments.joined(separator: " "), reason: "unreadable reply: \(output.suffix(300))")
            }
            return (Measurement(samples: reply.samples_ms), reply.threads)
        }
    }

    /// Runs `executable` (looked up on the PATH) and returns its stdout, or
    /// its stderr's last lines when it fails.
    private struct Failure: Error { let reason: String }

    private static func run(_ executable: String, _ arguments: [String]) -> Result<String, Failure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        // stdout through a pipe (one JSON line); stderr (warnings, a
        // traceback) into a file, so neither can fill up and block the other.
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("nnbench-pytorch-\(UUID().uuidString).err")
        defer { try? FileManager.default.removeItem(at: errURL) }
        guard FileManager.default.createFile(atPath: errURL.path, contents: nil), let errHandle = try? FileHandle(forWritingTo: errURL) else {
            return .failure(Failure(reason: "cannot create \(errURL.path)"))
        }
        defer { try? errHandle.close() }
        process.standardOutput = out
        process.standardError = errHandle
        do {
            try process.run()
        } catch {
            return .failure(Failure(reason: "\(error)"))
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errData, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            return .failure(Failure(reason: "exit \(process.terminationStatus)\(text.isEmpty ? "" : ": \(text)")"))
        }
        return .success(String(decoding: outData, as: UTF8.self))
    }
}
