import CBLAS
import CPUKernels
import Foundation
import NNBackend

/// The OpenBLAS kernel set ("core") the CPU backend's matrix products run
/// on, corrected where OpenBLAS mistakes a new CPU for an old one.
///
/// A DYNAMIC_ARCH OpenBLAS (Debian's) picks its core from the CPU's model
/// number when it loads. A release older than the CPU does not know the
/// number and falls back to Prescott, SSE3 kernels: Debian 12's 0.3.21 on
/// an Emerald Rapids Xeon (family 6, model 207) ran sgemm 1024^3 at 33-37
/// GFLOP/s where its SkylakeX kernels, on the same cores, reach 190-310.
/// Where that happened, `OPENBLAS_CORETYPE` is unset and the CPU has the
/// instructions of a better core (checked the way the CPU kernels choose
/// their level), OpenBLAS is initialized again with that core through its
/// own `gotoblas_dynamic_quit`/`gotoblas_dynamic_init` (exported by every
/// DYNAMIC_ARCH build; looked up at run time, so a build without them is
/// left as it is). `OPENBLAS_CORETYPE` set by the user always wins.
public enum OpenBLASCore {
    /// What OpenBLAS runs now, e.g. "SkylakeX" (its own name for the core).
    public static var name: String {
        _ = correction
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// "core Haswell", and " set by OPENBLAS_CORETYPE" when the user's
    /// variable chose it, for reports.
    public static var coreDescription: String {
        let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil ? "" : " set by OPENBLAS_CORETYPE"
        return "core \(name)\(forced)"
    }

    /// Why the core was changed at start ("OpenBLAS chose Prescott for this
    /// CPU, which has AVX-512; switched to SkylakeX ..."), nil when
    /// OpenBLAS's own choice stands.
    public static var correction: String? { corrected }

    /// Runs once, before the CPU backend's first product (CPUBackend.init).
    private static let corrected: String? = correct()

    /// OpenBLAS's cores that predate AVX: what an unknown CPU falls back to.
    private static let preAVXCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
                                                   "katmai", "coppermine", "northwood", "banias"]

    private static func correct() -> String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let detected = openblas_get_corename().map({ String(cString: $0) }),
              preAVXCores.contains(detected.lowercased()) else { return nil }
        let better: String, instructions: String
        switch Int(nn_cpu_level()) {
        case NN_CPU_X86_64_V4: (better, instructions) = ("SkylakeX", "AVX-512")
        case NN_CPU_X86_64_V3: (better, instructions) = ("Haswell", "AVX2 and FMA")
        default: return nil
        }
        typealias Entry = @convention(c) () -> Void
        guard let process = dlopen(nil, RTLD_NOW),
              let quit = dlsym(process, "gotoblas_dynamic_quit"), let initialize = dlsym(process, "gotoblas_dynamic_init") else {
            return nil
        }
        // gotoblas_dynamic_init reads the variable; it is removed again so
        // child processes see the environment they were given.
        setenv("OPENBLAS_CORETYPE", better, 1)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialize, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        let now = openblas_get_corename().map { String(cString: $0) } ?? "?"
        return "OpenBLAS chose its \(detected) kernels for this CPU, which has \(instructions); switched to \(now) "
            + "(OPENBLAS_CORETYPE=\(detected) keeps OpenBLAS's choice)"
    }
}
