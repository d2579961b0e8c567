import Foundation

/// A numeric table read from a CSV file: optional column names and the
/// values, row-major, as Double.
public struct CSVTable: Sendable {
    /// The header's column names, or nil when the file has no header.
    public let columnNames: [String]?
    public let rowCount: Int
    public let columnCount: Int
    /// rowCount x columnCount values, row-major.
    public let values: [Double]
    /// The file the table came from (for error messages).
    public let file: String

    public init(columnNames: [String]?, rowCount: Int, columnCount: Int, values: [Double], file: String = "<CSV data>") {
        require(values.count == rowCount * columnCount,
                     "CSVTable: \(values.count) values do not fill \(rowCount) x \(columnCount)")
        require(columnNames.map { $0.count == columnCount } ?? true,
                     "CSVTable: \(columnNames?.count ?? 0) names for \(columnCount) columns")
        self.columnNames = columnNames
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.values = values
        self.file = file
    }

    public subscript(row: Int, column: Int) -> Double { values[row * columnCount + column] }

    /// The values of one column.
    public func column(_ index: Int) -> [Double] {
        require(index >= 0 && index < columnCount, "CSVTable.column: index \(index) out of 0..<\(columnCount)")
        return (0..<rowCount).map { values[$0 * columnCount + index] }
    }

    /// The index of the column named `name` (thrown error when absent).
    public func columnIndex(_ name: String) throws -> Int {
        guard let names = columnNames else {
            throw DataFileError(file: file, message: "has no header, so there is no column named '\(name)'")
        }
        guard let index = names.firstIndex(of: name) else {
            throw DataFileError(file: file, message: "no column named '\(name)' (columns: \(names.joined(separator: ", ")))")
        }
        return index
    }

    /// How a label column becomes a dataset's labels.
    public enum LabelKind: Sendable {
        /// Class indices 0..<n as int32 (values must be whole numbers >= 0).
        case classes
        /// Regression targets as float32.
        case targets
    }

    /// A dataset with `labelColumn` as labels and every other column (in
    /// order) as the features.
    public func dataset(labelColumn: Int, as kind: LabelKind = .classes) throws -> Dataset {
        require(labelColumn >= 0 && labelColumn < columnCount,
                     "CSVTable.dataset: label column \(labelColumn) out of 0..<\(columnCount)")
        let featureCount = columnCount - 1
        var features = [Float]()
        features.reserveCapacity(rowCount * featureCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount where column != labelColumn { features.append(Float(self[row, column])) }
        }
        let labels = column(labelColumn)
        switch kind {
        case .targets:
            return Dataset(features: features, featureShape: [featureCount], targets: labels.map { Float($0) })
        case .classes:
            var classes = [Int32]()
            classes.reserveCapacity(rowCount)
            for (row, value) in labels.enumerated() {
                guard value >= 0 && value <= Double(Int32.max) && value.rounded() == value else {
                    let name = columnNames.map { " ('\($0[labelColumn])')" } ?? ""
                    throw DataFileError(file: file, message: "row \(row + 1) of label column \(labelColumn + 1)\(name) is \(value), not a class index (a whole number >= 0)")
                }
                classes.append(Int32(value))
            }
            return Dataset(features: features, featureShape: [featureCount], labels: classes)
        }
    }

    /// `dataset(labelColumn:as:)` with the column given by its header name.
    public func dataset(labelColumn name: String, as kind: LabelKind = .classes) throws -> Dataset {
        try dataset(labelColumn: columnIndex(name), as: kind)
    }
}

/// Reads numeric CSV tables.
///
/// Fields are separated by `delimiter`; lines end in LF, CRLF or CR; blank
/// lines are skipped; spaces and tabs around a field are ignored; a field may
/// be wrapped in double quotes (a doubled quote inside stands for one).
/// Every data field must be a finite decimal number (no empty fields, no
/// NaN or infinity) and every row must have as many fields as the first.
/// Errors name the file, the line and the column.
public enum CSV {
    /// Whether the first row holds column names.
    public enum Header: Sendable {
        /// A header when the first row has a field that is not a number.
        case auto
        case present
        case absent
    }

    public static func read(contentsOf url: URL, header: Header = .auto, delimiter: UInt8 = UInt8(ascii: ",")) throws -> CSVTable {
        try parse(DataFiles.read(url), file: url.path, header: header, delimiter: delimiter)
    }

    /// Parses `bytes` (UTF-8 CSV text); `file` names the source in errors.
    public static func parse(_ bytes: [UInt8], file: String = "<CSV data>", header: Header = .auto,
                             delimiter: UInt8 = UInt8(ascii: ",")) throws -> CSVTable {
        require(delimiter != UInt8(ascii: "\"") && delimiter != 10 && delimiter != 13 && delimiter < 128,
                     "CSV: delimiter must be an ASCII character other than a quote or a line break")
        var parser = Parser(bytes: bytes, file: file, delimiter: delimiter)
        var names: [String]?
        var values: [Double] = []
        var columns = 0
        var rows = 0
        var firstRow = true
        while let (line, fields) = try parser.nextRow() {
            if firstRow {
                firstRow = false
                columns = fields.count
                let numbers = fields.map { number(bytes[$0.range]) }
                let isHeader: Bool
                switch header {
                case .present: isHeader = true
                case .absent: isHeader = false
                case .auto: isHeader = numbers.contains { $0 == nil }
                }
                if isHeader {
                    names = try fields.map { field in
                        guard let name = String(validating: field.text(bytes), as: UTF8.self) else {
                            throw DataFileError(file: file, location: .line(line, column: field.column),
                                                message: "column name is not valid UTF-8")
                        }
                        return name
                    }
                    continue
                }
            }
            guard fields.count == columns else {
                throw DataFileError(file: file, location: .line(line, column: min(fields.count, columns) + 1),
                                    message: "row has \(fields.count) fields, expected \(columns) (as in the first row)")
            }
            for field in fields {
                guard let value = number(bytes[field.range]) else {
                    let text = String(decoding: field.text(bytes).prefix(40), as: UTF8.self)
                    let message = text.isEmpty ? "empty field (missing value)"
                        : isNonFinite(text) ? "'\(text)' is not a finite number" : "'\(text)' is not a number"
                    throw DataFileError(file: file, location: .line(line, column: field.column), message: message)
                }
                values.append(value)
            }
            rows += 1
        }
        if firstRow { throw DataFileError(file: file, message: "is empty: no header and no rows") }
        if rows == 0 { throw DataFileError(file: file, message: "has a header but no data rows") }
        return CSVTable(columnNames: names, rowCount: rows, columnCount: columns, values: values, file: file)
    }

    private static func isNonFinite(_ text: String) -> Bool {
        let t = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "+-"))
        return t == "nan" || t == "inf" || t == "infinity"
    }

    /// A finite decimal number: [+-] digits [. digits] [e [+-] digits].
    static func number(_ text: ArraySlice<UInt8>) -> Double? {
        var i = text.startIndex
        let end = text.endIndex
        func digits() -> Int {
            let start = i
            while i < end && text[i] >= 48 && text[i] <= 57 { i += 1 }
            return i - start
        }
        if i < end && (text[i] == 43 || text[i] == 45) { i += 1 }
        var mantissa = digits()
        if i < end && text[i] == 46 {
            i += 1
            mantissa += digits()
        }
        guard mantissa > 0 else { return nil }
        if i < end && (text[i] == 101 || text[i] == 69) {
            i += 1
            if i < end && (text[i] == 43 || text[i] == 45) { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == end else { return nil }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    struct Field {
        /// Byte range of the value (quotes and surrounding blanks removed).
        var range: Range<Int>
        /// 1-based field number.
        var column: Int
        /// Set when the field was quoted and held doubled quotes.
        var unescaped: [UInt8]?

        func text(_ bytes: [UInt8]) -> [UInt8] { unescaped ?? Array(bytes[range]) }
    }

    struct Parser {
        let bytes: [UInt8]
        let file: String
        let delimiter: UInt8
        var position = 0
        var line = 0

        init(bytes: [UInt8], file: String, delimiter: UInt8) {
            self.bytes = bytes
            self.file = file
            self.delimiter = delimiter
            // A UTF-8 byte order mark is not part of the first field.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        }

        private static func isBlank(_ b: UInt8) -> Bool { b == 32 || b == 9 }

        /// The next non-blank row and its line number, or nil at the end.
        mutating func nextRow() throws -> (Int, [Field])? {
            while position < bytes.count {
                line += 1
                var lineEnd = position
                while lineEnd < bytes.count && bytes[lineEnd] != 10 && bytes[lineEnd] != 13 { lineEnd += 1 }
                let start = position
                position = lineEnd
                if position < bytes.count && bytes[position] == 13 { position += 1 }
                if position < bytes.count && bytes[position] == 10 && (position == lineEnd || bytes[lineEnd] == 13) { position += 1 }
                if bytes[start..<lineEnd].allSatisfy(Parser.isBlank) { continue }
                return (line, try fields(start..<lineEnd))
            }
            return nil
        }

        private func fields(_ range: Range<Int>) throws -> [Field] {
            var result: [Field] = []
            var i = range.lowerBound
            while true {
                let column = result.count + 1
                while i < range.upperBound && Parser.isBlank(bytes[i]) { i += 1 }
                if i < range.upperBound && bytes[i] == 34 {
                    // Quoted: up to the closing quote; "" is a quote.
                    let open = i
                    i += 1
                    var text: [UInt8] = []
                    var escaped = false
                    var closed = false
                    while i < range.upperBound {
                        if bytes[i] == 34 {
                            if i + 1 < range.upperBound && bytes[i + 1] == 34 {
                                text.append(34)
                                escaped = true
                                i += 2
                                continue
                            }
                            closed = true
                            break
                        }
                        text.append(bytes[i])
                        i += 1
                    }
                    guard closed else {
                        throw DataFileError(file: file, location: .line(line, column: column),
                                            message: "quoted field has no closing quote on its line")
                    }
                    let valueRange = open + 1..<i
                    i += 1
                    while i < range.upperBound && Parser.isBlank(bytes[i]) { i += 1 }
                    guard i == range.upperBound || bytes[i] == delimiter else {
                        throw DataFileError(file: file, location: .line(line, column: column),
                                            message: "unexpected text after the closing quote")
                    }
                    result.append(Field(range: valueRange, column: column, unescaped: escaped ? text : nil))
                } else {
                    let start = i
                    while i < range.upperBound && bytes[i] != delimiter { i += 1 }
                    var end = i
                    while end > start && Parser.isBlank(bytes[end - 1]) { end -= 1 }
                    result.append(Field(range: start..<end, column: column, unescaped: nil))
                }
                if i >= range.upperBound { return result }
                i += 1  // the delimiter
            }
        }
    }
}
