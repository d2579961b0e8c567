import CBLAS
import CPUKernels
import Foundation
import NNBackend

/// The library that runs the CPU backend's float32 matrix products:
/// oneDNN's sgemm when it is installed, OpenBLAS otherwise (float64 always
/// goes to OpenBLAS's dgemm).
///
/// Chosen once per process from `NN_CPU_GEMM`:
/// - `auto` (the default): oneDNN if `libdnnl.so.3` or `libdnnl.so.2`
///   opens (Debian's `libdnnl2`), else OpenBLAS;
/// - `onednn`: oneDNN, or stop saying why it could not be opened
///   (`NN_ONEDNN_LIBRARY=/path/libdnnl.so.2` names the file);
/// - `openblas`: OpenBLAS for everything.
///
/// Why oneDNN: the char-LSTM step is mostly products of 32 rows (a batch
/// of hidden states times W_hh, 64 times each way); on 2 Zen 5 cores
/// OpenBLAS 0.3.21 runs them at 170 GFLOP/s on its own AVX-512 kernels and
/// 140-160 on the Haswell ones this VM forces, oneDNN at 350 (Benchmarks/
/// results/2026-12-07-issue11-onednn-pool.txt). It is the library PyTorch
/// runs the same layer on. Both libraries run single-threaded under the
/// backend's own thread pool (see `CPUThreadPool`).
public enum CPUGEMMLibrary: String, Sendable {
    case openBLAS = "openblas"
    case oneDNN = "onednn"

    /// The library float32 products use in this process.
    public static var current: CPUGEMMLibrary { chosen.library }

    /// Why `auto` fell back to OpenBLAS (oneDNN not installed, or not
    /// usable); nil when oneDNN runs or OpenBLAS was asked for.
    public static var fallbackReason: String? { chosen.fallbackReason }

    /// "oneDNN 2.6.3 (libdnnl.so.2, avx512_core_bf16) for float32 from
    /// 16384 multiply-adds, OpenBLAS 0.3.21 (core Haswell) below that and
    /// for float64", for reports.
    public static var description: String {
        let openBLAS = "OpenBLAS \(openBLASVersion) (\(OpenBLASCore.coreDescription))"
        guard current == .oneDNN else { return openBLAS }
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        nn_onednn_version(&major, &minor, &patch)
        return "oneDNN \(major).\(minor).\(patch) (\(String(cString: nn_onednn_path())), \(String(cString: nn_onednn_isa()))) "
            + "for float32 from \(oneDNNMinimumWork) multiply-adds, \(openBLAS) below that and for float64"
    }

    /// float32 products smaller than this (M·N·K) stay on OpenBLAS: a
    /// oneDNN call costs 0.3-0.5 us before it multiplies anything, where
    /// OpenBLAS takes 0.05 us for 4^3 and 0.2 for 16^3; from 32^3 oneDNN is
    /// ahead (0.56 vs 0.84 us here).
    static let oneDNNMinimumWork = 1 << 14

    private static let chosen: (library: CPUGEMMLibrary, fallbackReason: String?) = choose()

    private static func choose() -> (CPUGEMMLibrary, String?) {
        let environment = ProcessInfo.processInfo.environment
        let request = environment["NN_CPU_GEMM"]?.lowercased() ?? "auto"
        let path = environment["NN_ONEDNN_LIBRARY"]
        func openOneDNN() -> String? {
            var error = [CChar](repeating: 0, count: 512)
            let opened = path.withOptionalCString { nn_onednn_open($0, &error, error.count) }
            return opened == 1 ? nil : String(nulTerminated: error)
        }
        switch request {
        case "openblas":
            return (.openBLAS, nil)
        case "onednn":
            if let problem = openOneDNN() {
                requirementFailed("NN_CPU_GEMM=onednn: oneDNN could not be used: \(problem) "
                                  + "(install Debian's libdnnl2, name the file with NN_ONEDNN_LIBRARY, or set NN_CPU_GEMM=openblas)")
            }
            return (.oneDNN, nil)
        case "auto", "":
            if let problem = openOneDNN() { return (.openBLAS, "oneDNN not used: \(problem)") }
            return (.oneDNN, nil)
        default:
            requirementFailed("NN_CPU_GEMM=\(request): expected auto, onednn or openblas")
        }
    }

    /// "0.3.21", from OpenBLAS's configuration string.
    private static var openBLASVersion: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? ""
        return config.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
    }
}

extension Optional where Wrapped == String {
    /// `body` with the string's C form, or NULL for nil.
    fileprivate func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
        switch self {
        case .some(let text): return text.withCString { body($0) }
        case .none: return body(nil)
        }
    }
}
