import Foundation

/// A data file (IDX, CSV, gzip) that cannot be read or does not hold what its
/// format promises. The description names the file and where it is wrong: a
/// byte offset for binary formats, a line and column for CSV.
public struct DataFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where in the file the problem is.
    public enum Location: Equatable, Sendable {
        /// A byte offset from the start of the file (of the decompressed
        /// stream when `file` ends in "(decompressed)").
        case byte(Int)
        /// 1-based line and column (field number) of a text table.
        case line(Int, column: Int?)
    }

    public let file: String
    public let location: Location?
    public let message: String

    public init(file: String, location: Location? = nil, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        switch location {
        case nil: return "\(file): \(message)"
        case .byte(let offset)?: return "\(file): \(message) (at byte \(offset))"
        case .line(let line, let column)?:
            return "\(file):\(line)\(column.map { ":\($0)" } ?? ""): \(message)"
        }
    }
}

/// Whole-file reads shared by the data readers.
enum DataFiles {
    /// The bytes of `url`, or a `DataFileError` saying why they cannot be read.
    static func read(_ url: URL) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            let reason = (error as NSError).localizedDescription
            throw DataFileError(file: url.path, message: "cannot read the file: \(reason)")
        }
    }
}
