import Foundation
import XCTest

/// Paths and helpers shared by the data and checkpoint tests.
enum DataTestFiles {
    /// Tests/NNTests/Fixtures (read through #filePath, so Package.swift
    /// needs no resources entry).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// <repo>/../shared/data
    static let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data")

    static var mnist: URL { sharedData.appendingPathComponent("mnist-t10k") }

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// The MNIST directory, or a skip when it is missing (a failure with CI=true).
    static func requireMNIST() throws -> URL {
        try requireShared(mnist.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        return mnist
    }

    /// tinyshakespeare's input.txt, or a skip when it is missing (a failure
    /// with CI=true).
    static func requireShakespeare() throws -> URL {
        try requireShared(sharedData.appendingPathComponent("tinyshakespeare/input.txt"))
    }

    /// `file` from shared/data, or a skip when it is missing (a failure with
    /// CI=true, where shared/ must be there).
    @discardableResult
    private static func requireShared(_ file: URL) throws -> URL {
        if FileManager.default.fileExists(atPath: file.path) { return file }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("\(file.path) is missing (shared/ must sit beside the checkout)")
        }
        throw XCTSkip("\(file.path) is missing")
    }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(for test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-data-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Asserts that `body` throws an error whose description contains every
/// string in `fragments`; returns the description.
@discardableResult
func assertThrowsDescribing<T>(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> T) -> String? {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
        return nil
    } catch {
        let text = "\(error)"
        for fragment in fragments where !text.contains(fragment) {
            XCTFail("error '\(text)' does not mention '\(fragment)'", file: file, line: line)
        }
        return text
    }
}
