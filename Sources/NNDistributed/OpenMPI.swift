import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Open MPI, opened at run time with `dlopen`, so that the library and its
/// programs build and start on a machine without MPI; only a distributed
/// run needs it (Debian's `openmpi-bin`, which brings `libmpi.so.40`).
///
/// Open MPI's handles (`MPI_Comm`, `MPI_Datatype`, `MPI_Op`, ...) are
/// pointers to its predefined objects, and `MPI_COMM_WORLD` is the address
/// of the symbol `ompi_mpi_comm_world`: `<mpi.h>` defines them that way
/// (`OMPI_PREDEFINED_GLOBAL`), so `dlsym` finds them all. These are facts
/// of Open MPI's ABI, not of the MPI standard (MPICH uses integers);
/// `OpenMPIABITests` compiles a C program against `<mpi.h>` with `mpicc`
/// and checks the constants below against it.
///
/// `@unchecked Sendable`: every property is a constant set once at load
/// time (C function pointers and addresses of Open MPI's predefined
/// objects, which live as long as the process); the calls themselves are
/// serialized by `ProcessGroup`'s queue.
final class OpenMPI: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer

    let path: String

    // Constants from <mpi.h> (Open MPI 4.x and 5.x).
    static let success: Int32 = 0
    static let threadSerialized: Int32 = 2
    static let commTypeShared: Int32 = 0
    static let maxErrorString = 256
    static let maxProcessorName = 256
    static let maxLibraryVersionString = 256
    /// MPI_IN_PLACE is `(void *) 1`.
    static var inPlace: UnsafeRawPointer { UnsafeRawPointer(bitPattern: 1)! }

    // Predefined objects.
    let commWorld: Handle
    let float: Handle, double: Handle, int32: Handle, int64: Handle, byte: Handle
    let sum: Handle, max: Handle, min: Handle
    let infoNull: Handle
    let errorsReturn: Handle

    // Entry points.
    let initialized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let finalized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let initThread: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    let finalize: @convention(c) () -> Int32
    let abort: @convention(c) (Handle, Int32) -> Int32
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSplitType: @convention(c) (Handle, Int32, Int32, Handle, UnsafeMutablePointer<Handle?>) -> Int32
    let commSetErrhandler: @convention(c) (Handle, Handle) -> Int32
    let allreduce: @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32
    let bcast: @convention(c) (UnsafeMutableRawPointer, Int32, Handle, Int32, Handle) -> Int32
    let allgather: @convention(c) (UnsafeRawPointer, Int32, Handle, UnsafeMutableRawPointer, Int32, Handle, Handle) -> Int32
    let barrier: @convention(c) (Handle) -> Int32
    let errorString: @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    let getProcessorName: @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    let getLibraryVersion: @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    /// The library names tried, in order, after `$NN_MPI_LIBRARY`.
    static let candidates = ["libmpi.so.40", "libmpi.so"]

    private static let loaded = Mutex<OpenMPI?>(nil)

    /// The process's Open MPI, opened on first use.
    static func shared() throws -> OpenMPI {
        try loaded.withLock { loaded in
            if let loaded { return loaded }
            let library = try OpenMPI()
            loaded = library
            return library
        }
    }

    private init() throws {
        var tried: [String] = []
        var opened: (path: String, handle: UnsafeMutableRawPointer)?
        let override = ProcessInfo.processInfo.environment["NN_MPI_LIBRARY"].flatMap { $0.isEmpty ? nil : $0 }
        for name in override.map({ [$0] }) ?? OpenMPI.candidates {
            // RTLD_GLOBAL: Open MPI's plugins (its MCA components), which it
            // opens itself, resolve their symbols against libmpi.
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) {
                opened = (name, handle)
                break
            }
            tried.append("\(name): \(dlerror().map { String(cString: $0) } ?? "not found")")
        }
        guard let (path, handle) = opened else { throw DistributedError.libraryNotFound(tried: tried) }
        self.path = path

        var missing: [String] = []
        func symbol(_ name: String) -> UnsafeMutableRawPointer {
            if let address = dlsym(handle, name) { return address }
            missing.append(name)
            return UnsafeMutableRawPointer(bitPattern: 1)!
        }
        func function<F>(_ name: String, _: F.Type) -> F { unsafeBitCast(symbol(name), to: F.self) }

        commWorld = symbol("ompi_mpi_comm_world")
        float = symbol("ompi_mpi_float")
        double = symbol("ompi_mpi_double")
        int32 = symbol("ompi_mpi_int32_t")
        int64 = symbol("ompi_mpi_int64_t")
        byte = symbol("ompi_mpi_byte")
        sum = symbol("ompi_mpi_op_sum")
        max = symbol("ompi_mpi_op_max")
        min = symbol("ompi_mpi_op_min")
        infoNull = symbol("ompi_mpi_info_null")
        errorsReturn = symbol("ompi_mpi_errors_return")
        initialized = function("MPI_Initialized", type(of: initialized))
        finalized = function("MPI_Finalized", type(of: finalized))
        initThread = function("MPI_Init_thread", type(of: initThread))
        finalize = function("MPI_Finalize", type(of: finalize))
        abort = function("MPI_Abort", type(of: abort))
        commRank = function("MPI_Comm_rank", type(of: commRank))
        commSize = function("MPI_Comm_size", type(of: commSize))
        commSplitType = function("MPI_Comm_split_type", type(of: commSplitType))
        commSetErrhandler = function("MPI_Comm_set_errhandler", type(of: commSetErrhandler))
        allreduce = function("MPI_Allreduce", type(of: allreduce))
        bcast = function("MPI_Bcast", type(of: bcast))
        allgather = function("MPI_Allgather", type(of: allgather))
        barrier = function("MPI_Barrier", type(of: barrier))
        errorString = function("MPI_Error_string", type(of: errorString))
        getProcessorName = function("MPI_Get_processor_name", type(of: getProcessorName))
        getLibraryVersion = function("MPI_Get_library_version", type(of: getLibraryVersion))
        guard missing.isEmpty else {
            // ompi_* missing: another MPI (MPICH's handles are integers).
            throw DistributedError.notOpenMPI(library: path, missing: missing)
        }
    }

    /// Open MPI's words for an error code.
    func message(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: OpenMPI.maxErrorString + 1)
        var length: Int32 = 0
        guard errorString(code, &text, &length) == OpenMPI.success else { return "MPI error \(code)" }
        return String(nulTerminated: text)
    }

    /// Throws the error of a call that did not return MPI_SUCCESS.
    func check(_ code: Int32, _ function: String) throws {
        guard code != OpenMPI.success else { return }
        throw DistributedError.call(function: function, code: Int(code), message: message(code))
    }

    /// "Open MPI v4.1.4, ..." (the first line).
    var version: String {
        var text = [CChar](repeating: 0, count: OpenMPI.maxLibraryVersionString + 1)
        var length: Int32 = 0
        guard getLibraryVersion(&text, &length) == OpenMPI.success else { return "Open MPI" }
        return String(nulTerminated: text).split(separator: ",").first.map(String.init) ?? "Open MPI"
    }
}

/// What can go wrong in a distributed run.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// No Open MPI library could be opened.
    case libraryNotFound(tried: [String])
    /// The library opened is not Open MPI.
    case notOpenMPI(library: String, missing: [String])
    /// Open MPI gives less thread support than the background communication needs.
    case threadSupport(provided: Int)
    /// An MPI call failed.
    case call(function: String, code: Int, message: String)
    /// The processes disagree on what a collective operation is given.
    case mismatch(operation: String, perRank: [String])

    public var description: String {
        switch self {
        case .libraryNotFound(let tried):
            return "Open MPI not found (tried \(tried.joined(separator: "; "))): install it (Debian: openmpi-bin, which "
                + "scripts/install-deps installs) or set NN_MPI_LIBRARY to its libmpi.so"
        case .notOpenMPI(let library, let missing):
            return "\(library) is not Open MPI (no \(missing.joined(separator: ", "))): NNDistributed speaks Open MPI's ABI; "
                + "set NN_MPI_LIBRARY to Open MPI's libmpi.so.40"
        case .threadSupport(let provided):
            return "Open MPI provides thread level \(provided), below MPI_THREAD_SERIALIZED (2), which the background "
                + "gradient averaging needs"
        case .call(let function, let code, let message):
            return "\(function) failed (MPI error \(code)): \(message)"
        case .mismatch(let operation, let perRank):
            return "\(operation): the processes disagree: " + perRank.enumerated().map { "rank \($0.offset): \($0.element)" }
                .joined(separator: "; ")
        }
    }
}
