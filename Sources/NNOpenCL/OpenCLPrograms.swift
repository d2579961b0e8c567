import COpenCL
import Foundation
import Kernels
import NNBackend

/// The kernel families, one .cl file each in Kernels/.
enum KernelFamily: String, CaseIterable {
    case gemm, elementwise, reduce, softmax, conv, pool, random, optim, layout, rnn

    var source: String {
        switch self {
        case .gemm: return KernelSources.gemm
        case .elementwise: return KernelSources.elementwise
        case .reduce: return KernelSources.reduce
        case .softmax: return KernelSources.softmax
        case .conv: return KernelSources.conv
        case .pool: return KernelSources.pool
        case .random: return KernelSources.random
        case .optim: return KernelSources.optim
        case .layout: return KernelSources.layout
        case .rnn: return KernelSources.rnn
        }
    }

    /// Build options beyond the element type. The random fills need IEEE
    /// sqrt to reproduce the CPU backend's normals bit for bit.
    var extraOptions: String {
        switch self {
        case .random: return "-cl-fp32-correctly-rounded-divide-sqrt"
        default: return ""
        }
    }
}

/// Builds programs lazily (once per family and dtype for the life of the
/// backend) and keeps their kernels.
///
/// Compiled binaries are also kept on disk, keyed by device, driver, build
/// options and source (see `OpenCLBinaryCache`), so a second run skips the
/// compiler.
final class OpenCLPrograms {
    private let context: cl_context
    private let device: OpenCLDeviceInfo
    private let cache: OpenCLBinaryCache?
    private var programs: [String: cl_program] = [:]
    private var kernels: [String: cl_kernel] = [:]
    /// CL_KERNEL_WORK_GROUP_SIZE of each kernel asked about.
    private var groupLimits: [cl_kernel: Int] = [:]
    /// Programs compiled from source / loaded from the binary cache in this
    /// process (the parity suite fails a run that compiled nothing).
    private(set) var compiledFromSource = 0
    private(set) var loadedFromCache = 0

    init(context: cl_context, device: OpenCLDeviceInfo, cache: OpenCLBinaryCache?) {
        self.context = context
        self.device = device
        self.cache = cache
    }

    deinit {
        for kernel in kernels.values { _ = openCL.clReleaseKernel(kernel) }
        for program in programs.values { _ = openCL.clReleaseProgram(program) }
    }

    var programCount: Int { programs.count }

    var keepsBinaries: Bool { cache != nil }

    /// `defines`: -D options of a program variant (the tuner's GEMM blocks).
    func options(_ family: KernelFamily, _ dtype: DType, defines: String = "") -> String {
        let t = dtype == .float64 ? "double" : "float"
        return "-cl-std=CL1.2 -D T=\(t) -D NN_FP64=\(device.supportsFloat64 ? 1 : 0) \(family.extraOptions) \(defines)"
    }

    /// The kernel `name` of `family` built for `dtype` (int32 users share the
    /// float32 build) with `defines`.
    func kernel(_ family: KernelFamily, _ name: String, dtype: DType, defines: String = "") throws -> cl_kernel {
        let type: DType = dtype == .float64 ? .float64 : .float32
        let key = "\(family.rawValue)/\(type)/\(defines)/\(name)"
        if let kernel = kernels[key] { return kernel }
        return try createKernel(name, key: key, in: self.program(family, type, defines: defines))
    }

    /// Creates kernel `name` of `program` and keeps it under `key`.
    private func createKernel(_ name: String, key: String, in program: cl_program) throws -> cl_kernel {
        var status: cl_int = 0
        guard let kernel = openCL.clCreateKernel(program, name, &status), status == CL_SUCCESS else {
            throw OpenCLError.call(operation: "clCreateKernel(\(name))", code: status)
        }
        kernels[key] = kernel
        return kernel
    }

    /// Build failures by program, so a broken program fails fast instead of
    /// recompiling on every op.
    private var failures: [String: Error] = [:]

    func program(_ family: KernelFamily, _ dtype: DType, defines: String = "") throws -> cl_program {
        let key = "\(family.rawValue)/\(dtype)" + (defines.isEmpty ? "" : " \(defines)")
        return try program(key, dtype, source: KernelSources.common + "\n" + family.source,
                           options: options(family, dtype, defines: defines))
    }

    /// The kernel `name` of a generated program (a fused elementwise chain,
    /// which calls the op functions of elementwise.cl): built once per
    /// source text and dtype, and kept in the binary cache like the
    /// families.
    func kernel(generated source: String, _ name: String, dtype: DType) throws -> cl_kernel {
        let key = "generated/\(dtype)/\(source)"
        if let kernel = kernels[key] { return kernel }
        let program = try self.program(key, dtype,
                                       source: "#define FUSED_CHAIN\n" + KernelSources.common + "\n" + KernelSources.elementwise
                                           + "\n" + source,
                                       options: options(.elementwise, dtype))
        return try createKernel(name, key: key, in: program)
    }

    private func program(_ key: String, _ dtype: DType, source: String, options: String) throws -> cl_program {
        if let program = programs[key] { return program }
        if let failure = failures[key] { throw failure }
        do {
            return try buildProgram(dtype, source: source, options: options, key: key)
        } catch {
            failures[key] = error
            throw error
        }
    }

    /// Work-items per group the kernel can run with on this device.
    func maxWorkGroupSize(_ kernel: cl_kernel) -> Int {
        if let limit = groupLimits[kernel] { return limit }
        var size = 0
        let status = openCL.clGetKernelWorkGroupInfo(kernel, device.deviceID, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                              MemoryLayout<Int>.size, &size, nil)
        let limit = status == CL_SUCCESS && size > 0 ? size : device.maxWorkGroupSize
        groupLimits[kernel] = limit
        return limit
    }

    private func buildProgram(_ dtype: DType, source: String, options: String, key: String) throws -> cl_program {
        if dtype == .float64 && !device.supportsFloat64 {
            throw OpenCLError.unsupported(device: device.name, what: "float64 (cl_khr_fp64)")
        }
        let cacheKey = cache?.key(device: device, options: options, source: source)
        if let cacheKey, let binary = cache?.load(cacheKey), let program = try? buildFromBinary(binary, options: options) {
            programs[key] = program
            loadedFromCache += 1
            return program
        }
        let program = try buildFromSource(source, options: options, name: key)
        compiledFromSource += 1
        programs[key] = program
        if let cacheKey, let binary = binary(of: program) { cache?.store(cacheKey, binary) }
        return program
    }

    func buildFromSource(_ source: String, options: String, name: String) throws -> cl_program {
        var status: cl_int = 0
        let program: cl_program? = source.withCString { cString in
            var pointer: UnsafePointer<CChar>? = cString
            var length = strlen(cString)
            return openCL.clCreateProgramWithSource(context, 1, &pointer, &length, &status)
        }
        guard let program, status == CL_SUCCESS else {
            throw OpenCLError.call(operation: "clCreateProgramWithSource(\(name))", code: status)
        }
        try build(program, options: options, name: name)
        return program
    }

    private func buildFromBinary(_ binary: [UInt8], options: String) throws -> cl_program {
        var status: cl_int = 0, binaryStatus: cl_int = 0
        var deviceID: cl_device_id? = device.deviceID
        let program: cl_program? = binary.withUnsafeBufferPointer { bytes in
            var length = bytes.count
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return openCL.clCreateProgramWithBinary(context, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        guard let program, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
            throw OpenCLError.call(operation: "clCreateProgramWithBinary", code: status != CL_SUCCESS ? status : binaryStatus)
        }
        do {
            try build(program, options: options, name: "cached binary")
        } catch {
            _ = openCL.clReleaseProgram(program)
            throw error
        }
        return program
    }

    private func build(_ program: cl_program, options: String, name: String) throws {
        var deviceID: cl_device_id? = device.deviceID
        let status = openCL.clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if status == CL_SUCCESS { return }
        let log = buildLog(program)
        _ = openCL.clReleaseProgram(program)
        if status == CL_BUILD_PROGRAM_FAILURE {
            throw OpenCLError.build(program: name, device: device.name, log: log)
        }
        throw OpenCLError.call(operation: "clBuildProgram(\(name)): \(log)", code: status)
    }

    private func buildLog(_ program: cl_program) -> String {
        var size = 0
        guard openCL.clGetProgramBuildInfo(program, device.deviceID, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
                == CL_SUCCESS, size > 0 else { return "(no build log)" }
        var bytes = [CChar](repeating: 0, count: size)
        _ = openCL.clGetProgramBuildInfo(program, device.deviceID, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
        return String(nulTerminated: bytes)
    }

    private func binary(of program: cl_program) -> [UInt8]? {
        var size = 0
        guard openCL.clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
                == CL_SUCCESS, size > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let ok = bytes.withUnsafeMutableBufferPointer { buffer -> Bool in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return openCL.clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size,
                                    &pointer, nil) == CL_SUCCESS
        }
        return ok ? bytes : nil
    }
}

/// Program binaries on disk, one file per (device, driver, options, source)
/// hash, under `NN_KERNEL_CACHE` (default ~/.cache/swift-nn/kernels;
/// `NN_KERNEL_CACHE=off` disables it). Files are written atomically; a
/// corrupt or stale entry fails to load and is rebuilt from source.
///
/// Not used on PoCL unless NN_KERNEL_CACHE names a directory: PoCL keeps its
/// own cache (POCL_CACHE_DIR), and asking it for CL_PROGRAM_BINARIES makes it
/// compile every kernel up front. Measured here (9 programs, 2 cores): cold
/// 1.1 s without our cache vs 7.3 s with it; warm 0.15 s on PoCL's cache
/// alone, 0.01-0.06 s with ours.
struct OpenCLBinaryCache {
    let directory: URL

    /// The cache the environment asks for on `device`, or nil.
    static func fromEnvironment(for device: OpenCLDeviceInfo) -> OpenCLBinaryCache? {
        let env = ProcessInfo.processInfo.environment
        if let value = env["NN_KERNEL_CACHE"] {
            if value.isEmpty || value == "off" || value == "0" { return nil }
            return OpenCLBinaryCache(directory: URL(fileURLWithPath: value))
        }
        if device.platformName.contains("Portable Computing Language") { return nil }
        return OpenCLBinaryCache(directory: cacheHome().appendingPathComponent("swift-nn/kernels"))
    }

    func key(device: OpenCLDeviceInfo, options: String, source: String) -> String {
        stableHash([device.platformName, device.name, device.driverVersion, device.deviceVersion, options, source])
    }

    func load(_ key: String) -> [UInt8]? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(key + ".bin")) else { return nil }
        return [UInt8](data)
    }

    /// Best effort: a cache that cannot be written only costs a compile.
    func store(_ key: String, _ binary: [UInt8]) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? Data(binary).write(to: directory.appendingPathComponent(key + ".bin"), options: .atomic)
    }
}
