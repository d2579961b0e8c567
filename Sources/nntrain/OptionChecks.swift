import ArgumentParser
import Foundation

/// Checks of option values before any work, each naming the option: a
/// ValidationError makes ArgumentParser print it with the usage line and
/// exit 64.
enum OptionChecks {
    static func atLeastOne(_ value: Int, _ option: String) throws {
        guard value >= 1 else { throw ValidationError("\(option) \(value): must be at least 1") }
    }

    static func positive(_ value: Double, _ option: String) throws {
        guard value.isFinite && value > 0 else { throw ValidationError("\(option) \(value): must be a positive number") }
    }

    static func nonNegative(_ value: Double, _ option: String) throws {
        guard value.isFinite && value >= 0 else { throw ValidationError("\(option) \(value): must be zero or more") }
    }

    static func inUnitInterval(_ value: Double, _ option: String) throws {
        guard value >= 0 && value < 1 else { throw ValidationError("\(option) \(value): must be in [0, 1)") }
    }

    /// A file the program will write at the end: its directory must exist
    /// and be writable now, not after the training it would otherwise lose.
    static func writableFile(_ path: String?, _ option: String) throws {
        guard let path else { return }
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("\(option) \(path): is a directory; give a file name")
        }
        let directory = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(option) \(path): directory \(directory) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw ValidationError("\(option) \(path): directory \(directory) is not writable")
        }
    }

    /// A directory the program will create if missing (with its parents):
    /// it, or the nearest ancestor that exists, must be a writable directory.
    static func creatableDirectory(_ path: String, _ option: String) throws {
        var url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) { url.deleteLastPathComponent() }
        guard isDirectory.boolValue else { throw ValidationError("\(option) \(path): \(url.path) is a file, not a directory") }
        guard FileManager.default.isWritableFile(atPath: url.path) else {
            throw ValidationError("\(option) \(path): directory \(url.path) is not writable")
        }
    }

    static func readableFile(_ path: String, _ option: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw ValidationError("\(option) \(path): no readable file there")
        }
    }

    /// --checkpoint is written; --resume is read, and written too when no
    /// --checkpoint names another file.
    static func checkpointFiles(checkpoint: String?, resume: String?) throws {
        try writableFile(checkpoint, "--checkpoint")
        guard let resume else { return }
        try readableFile(resume, "--resume")
        if checkpoint == nil { try writableFile(resume, "--resume") }
    }

    static func directory(_ path: String?, _ option: String) throws {
        guard let path else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(option) \(path): no such directory")
        }
    }
}

/// A training run that went wrong after it started (a loss that stopped
/// being a number): printed by ArgumentParser, exit status 1.
struct TrainingFailure: Error, CustomStringConvertible {
    let description: String

    /// Throws when `loss` at `step` is NaN or infinite.
    static func checkFinite(_ loss: Double, step: Int, hint: String = "lower --lr (or clip the gradients)") throws {
        guard loss.isFinite else {
            throw TrainingFailure(description: "the training loss became \(loss) at step \(step); \(hint)")
        }
    }
}
