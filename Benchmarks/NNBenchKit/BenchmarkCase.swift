import Foundation
import NN

/// The families of cases `nnbench run --suite` selects.
public enum Suite: String, CaseIterable, Codable, Sendable {
    case gemm, conv, rnn, elementwise, softmax, train, small

    /// Suites from a comma-separated list ("gemm,conv"); throws on a name
    /// that is not a suite.
    public static func parse(list: String) throws -> [Suite] {
        var suites: [Suite] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            guard let suite = Suite(rawValue: name) else { throw BenchmarkError.unknownSuite(name: name) }
            if !suites.contains(suite) { suites.append(suite) }
        }
        guard !suites.isEmpty else { throw BenchmarkError.unknownSuite(name: list) }
        return suites
    }

    /// The cases of this suite at `scale`.
    public func cases(_ scale: Scale) -> [BenchmarkCase] {
        switch self {
        case .gemm: return GEMMSuite.cases(scale)
        case .conv: return ConvolutionSuite.cases(scale)
        case .rnn: return RecurrentSuite.cases(scale)
        case .elementwise: return ElementwiseSuite.cases(scale)
        case .softmax: return SoftmaxSuite.cases(scale)
        case .train: return TrainingSuite.cases(scale)
        case .small: return SmallOpsSuite.cases(scale)
        }
    }
}

/// The problem sizes of the suites. `standard` is what `nnbench run` times
/// (with or without --quick, which only shortens the timing); `tiny` keeps
/// every code path with shapes small enough for a unit test.
public enum Scale: String, Sendable {
    /// `standard` plus the sizes a GPU is judged on: GEMM 4096^3 and the
    /// LeNet-5 step at batch 256 (`nnbench run --large`).
    case large
    case standard, tiny
}

/// What one execution of a case does, for the rate column: floating-point
/// operations (GFLOP/s) or bytes read plus written (GB/s).
public enum Work: Equatable, Sendable {
    case flops(Double)
    case bytes(Double)
    case none
}

/// One timed operation. `prepare` allocates and fills the operands on a
/// target (untimed) and returns the body the timer repeats, or nil when the
/// case does not run on that target (only GEMM runs on raw OpenBLAS).
public struct BenchmarkCase {
    public let suite: Suite
    public let name: String
    public let work: Work
    /// The same case for Benchmarks/pytorch/train_suite.py (train suite).
    public let pytorch: [String]?
    let prepare: (BenchmarkTarget) throws -> (() -> Void)?

    init(_ suite: Suite, _ name: String, work: Work, pytorch: [String]? = nil,
         prepare: @escaping (BenchmarkTarget) throws -> (() -> Void)?) {
        self.suite = suite
        self.name = name
        self.work = work
        self.pytorch = pytorch
        self.prepare = prepare
    }

    /// A case that runs on library devices only.
    init(_ suite: Suite, _ name: String, work: Work, onDevice: @escaping (Device) throws -> () -> Void) {
        self.init(suite, name, work: work) { target in
            guard let device = target.device else { return nil }
            return try onDevice(device)
        }
    }
}
