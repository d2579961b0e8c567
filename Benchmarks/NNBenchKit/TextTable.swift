import Foundation

/// Plain-text columns for a terminal: the first `leftAligned` columns
/// left-aligned (names), the rest right-aligned (numbers), separated by two
/// spaces, with a rule under the header.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    var leftAligned = 2

    init(header: [String], leftAligned: Int = 2) {
        self.header = header
        self.leftAligned = leftAligned
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == header.count, "TextTable: row of \(row.count) cells under \(header.count) columns")
        rows.append(row)
    }

    func render() -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < leftAligned ? cell + pad : pad + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Number formats shared by the tables.
enum Format {
    /// Milliseconds with three significant decimals for short times.
    static func ms(_ value: Double) -> String {
        value >= 100 ? String(format: "%.1f", value) : value >= 10 ? String(format: "%.2f", value) : String(format: "%.3f", value)
    }

    static func rate(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }

    /// A speed ratio: "1.23x".
    static func ratio(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return value >= 10 ? String(format: "%.1fx", value) : String(format: "%.2fx", value)
    }
}
