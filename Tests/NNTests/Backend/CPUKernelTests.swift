import CPUKernels
import Foundation
@testable import NN
import XCTest

/// The float32 vector kernels of the CPU backend (Sources/CPUKernels), at
/// every instruction-set level this CPU supports (baseline x86-64, and
/// x86-64-v3 / v4 where present), against float64 references.
final class CPUKernelTests: CPUKernelLevelTestCase {

    private func run(_ x: [Float], _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { kernel(xs.baseAddress!, $0.baseAddress!, x.count) } }
        return y
    }

    /// Errors in units in the last place of the float32 result (the
    /// subnormal spacing below the normal range).
    private func ulps(_ got: Float, _ exact: Double) -> Double {
        let spacing = abs(exact) < Double(Float.leastNormalMagnitude) ? Double(Float.leastNonzeroMagnitude) : Double(Float(exact).ulp)
        return abs(Double(got) - exact) / spacing
    }

    /// A dense grid over [low, high] plus its ends (odd count: no tile multiple).
    private func grid(_ low: Float, _ high: Float, count: Int = 400_003) -> [Float] {
        (0..<count).map { low + (high - low) * Float($0) / Float(count - 1) }
    }

    func testExpIsWithinTwoUlpsFromTheSubnormalsToOverflowAtEveryLevel() {
        let x = grid(-103.9, 88.72)
        forEachLevel { level in
            let y = run(x) { nn_exp_f32($0, $1, $2) }
            let worst = zip(x, y).map { ulps($1, Foundation.exp(Double($0))) }.max()!
            XCTAssertLessThanOrEqual(worst, 2, "level \(level)")
            let special = run([.infinity, -.infinity, .nan, 89, -104, 0, -87.5]) { nn_exp_f32($0, $1, $2) }
            XCTAssertEqual(special[0], .infinity)
            XCTAssertEqual(special[1], 0)
            XCTAssertTrue(special[2].isNaN)
            XCTAssertEqual(special[3], .infinity, "e^89 overflows, as expf")
            XCTAssertEqual(special[4], 0)
            XCTAssertEqual(special[5], 1)
            XCTAssertLessThanOrEqual(ulps(special[6], Foundation.exp(-87.5)), 2, "a subnormal result")
        }
    }

    func testSigmoidTanhAndSoftplusAgreeWithFloat64AtEveryLevel() {
        let x = grid(-30, 30, count: 100_001) + [0, -0.0, 1e-8, -1e-8, 0.625, -0.625, 100, -100]
        forEachLevel { level in
            let sigmoid = run(x) { nn_sigmoid_f32($0, $1, $2) }, tanh = run(x) { nn_tanh_f32($0, $1, $2) }
            let softplus = run(x) { nn_softplus_f32($0, $1, $2, 1, 20) }, steep = run(x) { nn_softplus_f32($0, $1, $2, 2, 20) }
            for (i, v) in x.enumerated() {
                let t = Double(v)
                XCTAssertLessThanOrEqual(abs(Double(sigmoid[i]) - 1 / (1 + Foundation.exp(-t))), 1.2e-7, "level \(level) sigmoid(\(v))")
                XCTAssertLessThanOrEqual(ulps(tanh[i], Foundation.tanh(t)), 4, "level \(level) tanh(\(v))")
                // PyTorch's softplus: x itself past the threshold.
                let exact = t > 20 ? t : Foundation.log1p(Foundation.exp(t)), exactSteep = 2 * t > 20 ? t : Foundation.log1p(Foundation.exp(2 * t)) / 2
                XCTAssertLessThanOrEqual(ulps(softplus[i], exact), 4, "level \(level) softplus(\(v))")
                XCTAssertLessThanOrEqual(ulps(steep[i], exactSteep), 4, "level \(level) softplus(\(v), beta 2)")
            }
            XCTAssertEqual(run([.nan]) { nn_sigmoid_f32($0, $1, $2) }[0].isNaN, true)
        }
    }

    /// The backend runs some of them in place (softmax's exp): the same
    /// values as out of place, at every level.
    func testInPlaceEqualsOutOfPlace() {
        let x = grid(-20, 20, count: 1_001)
        forEachLevel { level in
            for (name, kernel) in [("exp", nn_exp_f32), ("sigmoid", nn_sigmoid_f32), ("tanh", nn_tanh_f32)] {
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, $0.baseAddress!, $0.count) }
                XCTAssertEqual(inPlace, run(x) { kernel($0, $1, $2) }, "\(name) level \(level)")
            }
        }
    }

    func testExpShiftedSumIsSoftmaxsDenominator() {
        for n in [1, 7, 64, 65, 1000, 4099] {
            let x = (0..<n).map { Float(sin(Double($0) * 0.37) * 30) }
            let shift = x.max()!
            forEachLevel { level in
                var y = [Float](repeating: 0, count: n)
                let total = x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { nn_exp_shifted_sum_f32(xs.baseAddress!, $0.baseAddress!, n, shift) }
                }
                let withoutOutput = x.withUnsafeBufferPointer { nn_exp_shifted_sum_f32($0.baseAddress!, nil, n, shift) }
                let exact = x.map { Foundation.exp(Double($0 - shift)) }
                XCTAssertEqual(total, exact.reduce(0, +), accuracy: 1e-6 * exact.reduce(0, +), "n \(n) level \(level)")
                XCTAssertEqual(withoutOutput, total)
                for i in 0..<n { XCTAssertLessThanOrEqual(ulps(y[i], exact[i]), 2) }
            }
        }
    }

    func testTheLevelIsTheWidestSupportedAndCanBeNarrowed() {
        XCTAssertEqual(nn_cpu_set_level(99), nn_cpu_supported_level())
        XCTAssertEqual(nn_cpu_set_level(-1), Int32(NN_CPU_BASELINE))
        XCTAssertEqual(CPUBackend.vectorLevel, "baseline")
        #if arch(x86_64) && os(Linux)
        // The detected level is what the kernel says the CPU has.
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let v3 = ["avx2", "fma", "bmi2", "f16c", "movbe"].allSatisfy(flags.contains)
        let v4 = v3 && ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        XCTAssertEqual(nn_cpu_supported_level(), Int32(v4 ? NN_CPU_X86_64_V4 : v3 ? NN_CPU_X86_64_V3 : NN_CPU_BASELINE), "\(flags.sorted())")
        #endif
    }

    /// The tensor ops take the kernels at the level in force: the same
    /// values through Tensor as through the kernel.
    func testTensorOpsUseTheKernels() throws {
        let values = grid(-9, 9, count: 1001)
        forEachLevel { _ in
            let x = Tensor(values, on: .cpu)
            XCTAssertEqual(try! x.exp().toArray(), run(values) { nn_exp_f32($0, $1, $2) })
            XCTAssertEqual(try! x.sigmoid().toArray(), run(values) { nn_sigmoid_f32($0, $1, $2) })
            XCTAssertEqual(try! x.tanh().toArray(), run(values) { nn_tanh_f32($0, $1, $2) })
        }
    }
}

/// Tests of the CPU kernels at each instruction-set level this CPU
/// supports: `forEachLevel` runs its body at each in turn, and the level in
/// force before the test is restored after it.
class CPUKernelLevelTestCase: XCTestCase {
    private var savedLevel: Int32 = 0

    override func setUp() { savedLevel = nn_cpu_level() }
    override func tearDown() { nn_cpu_set_level(savedLevel) }

    /// Each supported level in turn.
    func forEachLevel(_ body: (Int32) throws -> Void) rethrows {
        for level in 0...nn_cpu_supported_level() {
            XCTAssertEqual(nn_cpu_set_level(level), level)
            try body(level)
        }
    }
}
