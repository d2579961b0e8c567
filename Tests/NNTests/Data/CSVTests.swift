import Foundation
import XCTest
@testable import NN

/// The numeric CSV reader: headers, quoting, line endings, datasets from a
/// label column, and errors that name the file, line and column.
final class CSVTests: XCTestCase {
    private func parse(_ text: String, header: CSV.Header = .auto, file: String = "t.csv") throws -> CSVTable {
        try CSV.parse(Array(text.utf8), file: file, header: header)
    }

    static let iris = #"""
        sepal_length,sepal_width,"petal ""length""",species
        5.1,3.5,1.4,0
        4.9,3.0,1.4,0
        7.0,3.2,4.7,1
        6.3,3.3,6.0,2

        """#

    func testHeaderQuotingAndValues() throws {
        let table = try parse(Self.iris)
        XCTAssertEqual(table.columnNames, ["sepal_length", "sepal_width", "petal \"length\"", "species"])
        XCTAssertEqual(table.rowCount, 4)
        XCTAssertEqual(table.columnCount, 4)
        XCTAssertEqual(table[2, 2], 4.7)
        XCTAssertEqual(table.column(3), [0, 0, 1, 2])
        XCTAssertEqual(try table.columnIndex("species"), 3)
        assertThrowsDescribing(["t.csv", "no column named 'color'"]) { try table.columnIndex("color") }
    }

    func testHeaderDetectionAndOptions() throws {
        let numeric = "1,2\n3,4\n"
        XCTAssertNil(try parse(numeric).columnNames)
        XCTAssertEqual(try parse(numeric).rowCount, 2)
        let forced = try parse(numeric, header: .present)
        XCTAssertEqual(forced.columnNames, ["1", "2"])
        XCTAssertEqual(forced.values, [3, 4])
        assertThrowsDescribing(["t.csv:1:1", "'a' is not a number"]) { try parse("a,b\n1,2\n", header: .absent) }
    }

    func testLineEndingsBlanksSpacesAndBOM() throws {
        let text = "\u{FEFF}x , y\r\n 1 ,\t-2.5e1\r\n\r\n  \n\"3\",+4.\r5,.5"
        let table = try parse(text)
        XCTAssertEqual(table.columnNames, ["x", "y"])
        XCTAssertEqual(table.values, [1, -25, 3, 4, 5, 0.5])
        let semicolons = try CSV.parse(Array("a;b\n1;2\n".utf8), delimiter: UInt8(ascii: ";"))
        XCTAssertEqual(semicolons.values, [1, 2])
    }

    func testDatasetFromLabelColumn() throws {
        let table = try parse(Self.iris)
        let classes = try table.dataset(labelColumn: "species")
        XCTAssertEqual(classes.count, 4)
        XCTAssertEqual(classes.featureShape, [3])
        XCTAssertEqual(classes.classLabels, [0, 0, 1, 2])
        XCTAssertEqual(Array(classes.features.prefix(3)), [5.1, 3.5, 1.4])
        let regression = try table.dataset(labelColumn: 0, as: .targets)
        XCTAssertEqual(regression.featureShape, [3])
        guard case .targets(let targets, let shape) = regression.labels else { return XCTFail("expected targets") }
        XCTAssertEqual(targets, [5.1, 4.9, 7.0, 6.3])
        XCTAssertEqual(shape, [])
        XCTAssertEqual(Array(regression.features.prefix(3)), [3.5, 1.4, 0])
        assertThrowsDescribing(["t.csv", "row 1 of label column 2", "3.5", "not a class index"]) {
            try table.dataset(labelColumn: 1)
        }
    }

    func testErrorsNameFileLineAndColumn() {
        assertThrowsDescribing(["t.csv:3:3", "row has 2 fields, expected 3"]) { try parse("a,b,c\n1,2,3\n4,5\n") }
        assertThrowsDescribing(["t.csv:2:4", "row has 4 fields, expected 3"]) { try parse("a,b,c\n1,2,3,4\n") }
        assertThrowsDescribing(["t.csv:3:2", "'x7' is not a number"]) { try parse("a,b\n1,2\n3,x7\n") }
        assertThrowsDescribing(["t.csv:2:2", "empty field (missing value)"]) { try parse("a,b\n1,\n") }
        assertThrowsDescribing(["t.csv:2:1", "'NaN' is not a finite number"]) { try parse("a,b\nNaN,1\n") }
        assertThrowsDescribing(["t.csv:2:1", "'inf' is not a finite number"]) { try parse("a,b\ninf,1\n") }
        assertThrowsDescribing(["t.csv:2:1", "'1e999' is not a number"]) { try parse("a,b\n1e999,1\n") }
        assertThrowsDescribing(["t.csv:2:1", "'0x10' is not a number"]) { try parse("a,b\n0x10,1\n") }
        assertThrowsDescribing(["t.csv:1:2", "no closing quote"]) { try parse("a,\"b\n1,2\n") }
        assertThrowsDescribing(["t.csv:1:1", "after the closing quote"]) { try parse("\"a\"x,b\n1,2\n") }
        assertThrowsDescribing(["t.csv:1:2", "not valid UTF-8"]) { try CSV.parse([0x61, 0x2C, 0xFF, 0x0A, 0x31, 0x2C, 0x32], file: "t.csv") }
        assertThrowsDescribing(["t.csv", "empty"]) { try parse("\n \n") }
        assertThrowsDescribing(["t.csv", "header but no data rows"]) { try parse("a,b\n") }
        assertThrowsDescribing(["/nonexistent/x.csv", "cannot read"]) {
            try CSV.read(contentsOf: URL(fileURLWithPath: "/nonexistent/x.csv"))
        }
    }

    func testReadsFromAFile() throws {
        let directory = try DataTestFiles.temporaryDirectory(for: self)
        let url = directory.appendingPathComponent("iris.csv")
        try Data(Self.iris.utf8).write(to: url)
        XCTAssertEqual(try CSV.read(contentsOf: url).rowCount, 4)
        try Data("a,b\n1,2\n3\n".utf8).write(to: url)
        assertThrowsDescribing([url.path + ":3:2"]) { try CSV.read(contentsOf: url) }
    }

    func testMutatedFilesNeverCrash() throws {
        let good = Array("x,y,label\n1.5,-2,0\n3,4.25,1\n".utf8)
        let original = try CSV.parse(good)
        // Any byte turned into a non-ASCII one breaks a number, a name or
        // the row structure: always an error.
        for index in good.indices {
            var bad = good
            bad[index] ^= 0xFF
            XCTAssertThrowsError(try CSV.parse(bad, file: "m.csv"), "byte \(index) ^ 0xff") { error in
                XCTAssertTrue("\(error)".hasPrefix("m.csv"), "\(error)")
            }
            // Small changes may still be a valid table; they must not trap.
            for delta: UInt8 in [1, 255] {
                var changed = good
                changed[index] &+= delta
                _ = try? CSV.parse(changed, file: "m.csv")
            }
        }
        for length in 0..<good.count {
            if let table = try? CSV.parse(Array(good[..<length])) {
                XCTAssertLessThanOrEqual(table.rowCount, original.rowCount)
                XCTAssertEqual(table.columnCount, original.columnCount)
            }
        }
    }
}
