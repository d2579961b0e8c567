import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Saving and loading state dicts as safetensors files, so weights move to
/// and from PyTorch (`safetensors.torch.save_file(model.state_dict(), ...)`
/// and `load_file`).
///
///     try Checkpoint.save(model, to: URL(fileURLWithPath: "mlp.safetensors"), metadata: ["epoch": "5"])
///     try model.load(checkpoint: URL(fileURLWithPath: "mlp.safetensors"))
///
/// A file is never half-written: it goes to a temporary file in the same
/// directory, is flushed to disk, then renamed over the target. Loading
/// checks the whole file before anything is used, and a model is changed
/// only when every name and shape fits (dtypes are converted, as PyTorch's
/// `load_state_dict` does).
public enum Checkpoint {
    /// Saves `module`'s state dict (parameters and buffers).
    public static func save(_ module: Module, to url: URL, metadata: [String: String] = [:]) throws {
        try save(module.stateDict().entries, to: url, metadata: metadata)
    }

    /// Saves named tensors (unique names).
    public static func save(_ tensors: [(name: String, tensor: Tensor)], to url: URL, metadata: [String: String] = [:]) throws {
        let bytes: [UInt8]
        do {
            bytes = try SafeTensors.encode(tensors, metadata: metadata)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(file: url.path, message: "cannot read the tensors from their device: \(error)")
        }
        try writeAtomically(bytes, to: url)
    }

    /// The tensors of the safetensors file at `url`, by name, on `device`.
    public static func load(from url: URL, on device: Device = .default) throws -> [String: Tensor] {
        try read(from: url, on: device).dictionary
    }

    /// The tensors (in file order) and metadata of the file at `url`.
    public static func read(from url: URL, on device: Device = .default) throws -> SafeTensorsContents {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CheckpointError(file: url.path, message: "cannot read the file: \((error as NSError).localizedDescription)")
        }
        return try data.withUnsafeBytes { try SafeTensors.decode($0, file: url.path, on: device) }
    }

    /// Writes `bytes` to a temporary file beside `url`, flushes it, and
    /// renames it over `url`; on failure the temporary file is removed and
    /// `url` is untouched. Temporary files of `url` that a killed process
    /// left behind are removed first.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let target = url.path
        let directory = url.deletingLastPathComponent().path
        removeStaleTemporaries(of: url)
        let temporary = directory + "/" + temporaryPrefix(of: url) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ what: String) -> CheckpointError {
            let reason = String(cString: strerror(errno))
            return CheckpointError(file: target, message: "\(what): \(reason)")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create the temporary file \(temporary)") }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary) }
        }
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write \(buffer.count) bytes to \(temporary)")
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else { throw failure("cannot flush \(temporary) to disk") }
        closed = true
        guard close(fd) == 0 else { throw failure("cannot close \(temporary)") }
        guard rename(temporary, target) == 0 else { throw failure("cannot rename \(temporary) to the target") }
        renamed = true
        // Make the rename itself durable (best effort: some file systems refuse).
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}

extension Checkpoint {
    /// ".<name>.tmp-": the temporary files of `url` are this, the writer's
    /// PID, "-" and a random number.
    static func temporaryPrefix(of url: URL) -> String { "." + url.lastPathComponent + ".tmp-" }

    /// Removes the temporary files of `url` whose writer is no longer
    /// running (a save killed between create and rename). A file of this
    /// process, or of a PID that runs again, is left alone: it may be a
    /// save in progress.
    static func removeStaleTemporaries(of url: URL) {
        let directory = url.deletingLastPathComponent().path
        let prefix = temporaryPrefix(of: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let pidText = rest.split(separator: "-").first, let pid = pid_t(pidText), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }
}

extension Module {
    /// Saves this module's state dict as a safetensors file.
    public func save(checkpoint url: URL, metadata: [String: String] = [:]) throws {
        try Checkpoint.save(self, to: url, metadata: metadata)
    }

    /// Loads a safetensors state dict (ours or PyTorch's), or the weights of
    /// a training checkpoint (`TrainingCheckpoint`, its `model.` part). The
    /// file is validated completely and checked against this module (every
    /// name and shape; all mismatches reported in `problems`; dtypes are
    /// converted, as PyTorch's `load_state_dict`) before any parameter
    /// changes: a failed load leaves the module as it was.
    public func load(checkpoint url: URL) throws {
        try load(Checkpoint.read(from: url, on: .cpu), file: url.path)
    }

    /// `load(checkpoint:)` for a file already read (say, to look at its
    /// metadata first).
    public func load(_ contents: SafeTensorsContents, file: String) throws {
        let tensors = contents.metadata["format"] == TrainingCheckpoint.format
            ? try TrainingCheckpoint(contents, file: file).model : contents.tensors
        try loadStateDict(tensors, file: file)
    }

    /// `loadStateDict` of named tensors from `file`, a mismatch reported as
    /// that file's `CheckpointError`.
    func loadStateDict(_ tensors: [(name: String, tensor: Tensor)], file: String) throws {
        do {
            try loadStateDict(StateDict(tensors))
        } catch let error as StateDictError {
            throw CheckpointError(file: file, message: "does not match the model", problems: error.problems)
        }
    }
}
