/// A checkpoint that cannot be written, read or used: the file, what is
/// wrong, and where (a byte offset into the file) when that is known.
///
/// A checkpoint that is a valid file but does not fit the model (missing or
/// unexpected names, other shapes or dtypes) lists every mismatch in
/// `problems`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let message: String
    /// Byte offset into the file where the problem was found.
    public let byteOffset: Int?
    /// Each mismatch between the checkpoint and the model, when the file is
    /// valid but does not fit.
    public let problems: [String]

    public init(file: String, message: String, byteOffset: Int? = nil, problems: [String] = []) {
        self.file = file
        self.message = message
        self.byteOffset = byteOffset
        self.problems = problems
    }

    public var description: String {
        var text = "\(file): \(message)"
        if let byteOffset { text += " (at byte \(byteOffset))" }
        if !problems.isEmpty { text += ":\n  " + problems.joined(separator: "\n  ") }
        return text
    }
}
