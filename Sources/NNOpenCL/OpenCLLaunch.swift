import COpenCL
import Foundation
import NNBackend

/// One kernel argument.
enum KernelArgument {
    case buffer(DeviceBuffer?)
    case int(Int)
    /// A scalar of the program's float type T (float or double).
    case scalar(Double)
    case float(Float)
    case uint(UInt32)
    /// Up to 8 ints as an int8 vector (shapes and strides); unused lanes 0.
    case int8([Int])
    /// `bytes` of local memory.
    case local(Int)
}

extension OpenCLBackend {
    /// Enqueues kernel `name` of `family` built for `dtype` over a 1-D range
    /// of `global` work-items (rounded up to the local size, given or
    /// automatic; kernels check their bounds).
    func launch(_ family: KernelFamily, _ name: String, dtype: DType, global: Int, local: Int? = nil,
                _ arguments: KernelArgument...) {
        launch(family, name, dtype: dtype, global: [global], local: local.map { [$0] }, arguments)
    }

    /// The n-D form: `global` and `local` have one entry per dimension;
    /// `defines` picks a program variant (the tuner's GEMM blocks).
    func launch(_ family: KernelFamily, _ name: String, dtype: DType, global: [Int], local: [Int]?, defines: String = "",
                _ arguments: [KernelArgument]) {
        launch(name, dtype: dtype, global: global, local: local, arguments) {
            try $0.kernel(family, name, dtype: dtype, defines: defines)
        }
    }

    /// Enqueues kernel `name` of a generated program (`source` is what follows
    /// elementwise.cl's op functions).
    func launch(generated source: String, _ name: String, dtype: DType, global: [Int], _ arguments: [KernelArgument]) {
        launch(name, dtype: dtype, global: global, local: nil, arguments) {
            try $0.kernel(generated: source, name, dtype: dtype)
        }
    }

    private func launch(_ name: String, dtype: DType, global: [Int], local: [Int]?, _ arguments: [KernelArgument],
                        kernel resolve: (OpenCLPrograms) throws -> cl_kernel) {
        guard global.allSatisfy({ $0 > 0 }) else { return }
        // Kernels index with 32-bit ints.
        require(global.allSatisfy { $0 <= Int(Int32.max) },
                     "OpenCLBackend.\(name): \(global) work-items exceed the 32-bit index range of the kernels")
        // Inside the mutex from argument setting to enqueue: another thread
        // launching the same kernel must not set its arguments in between.
        queueState.withLock { state in
            do {
                let kernel = try resolve(state.programs)
                for (index, argument) in arguments.enumerated() {
                    try setArgument(kernel, index, argument, dtype: dtype, name: name)
                }
                let local = local
                    ?? (groupTarget == 0 ? nil : automaticLocalSize(global, limit: state.programs.maxWorkGroupSize(kernel)))
                var globalSize = global
                if let local {
                    for d in global.indices { globalSize[d] = (global[d] + local[d] - 1) / local[d] * local[d] }
                }
                let status = try enqueueCommand(name, range: global, in: &state) { event in
                    globalSize.withUnsafeBufferPointer { g in
                        guard let local else {
                            return openCL.clEnqueueNDRangeKernel(queue, kernel, cl_uint(global.count), nil, g.baseAddress, nil, 0, nil,
                                                                 event)
                        }
                        return local.withUnsafeBufferPointer { l in
                            openCL.clEnqueueNDRangeKernel(queue, kernel, cl_uint(global.count), nil, g.baseAddress, l.baseAddress, 0,
                                                          nil, event)
                        }
                    }
                }
                try check(status, "clEnqueueNDRangeKernel(\(name), global \(globalSize), local \(local.map { "\($0)" } ?? "auto"))")
                state.launches += 1
            } catch {
                record(error, in: &state)
            }
        }
    }

    /// The work-group shape for a launch that names none. Drivers left to
    /// choose pick a divisor of the global size: PoCL runs a prime count of
    /// work-items as one-item groups, and a (10, 10, 9600) im2col range as
    /// 9600 groups of 10 or fewer, paying its per-group cost each time.
    /// Instead: up to `groupTarget` items, filling dimension 0 first and the
    /// others with a divisor when one is at least half the room left (the
    /// global size is rounded up to it; every kernel checks its bounds).
    func automaticLocalSize(_ global: [Int], limit: Int) -> [Int] {
        // Small ranges (a GEMM's blocks) still get four groups per compute
        // unit, so every core has work.
        let spread = global.reduce(1, *) / (4 * max(1, info.computeUnits))
        var room = max(1, min(limit, groupTarget, spread))
        var local: [Int] = []
        for (d, size) in global.enumerated() {
            var l = min(size, room)
            if d > 0 && size > room, let divisor = (max(1, room / 2)...room).reversed().first(where: { size % $0 == 0 }) {
                l = divisor
            }
            local.append(l)
            room = max(1, room / l)
        }
        return local
    }

    private func setArgument(_ kernel: cl_kernel, _ index: Int, _ argument: KernelArgument, dtype: DType, name: String) throws {
        let i = cl_uint(index)
        let status: cl_int
        switch argument {
        case .buffer(let buffer):
            var mem: cl_mem? = try buffer.map { try cl($0, "launch").mem() }
            status = openCL.clSetKernelArg(kernel, i, MemoryLayout<cl_mem?>.size, &mem)
        case .int(let value):
            require(value >= Int(Int32.min) && value <= Int(Int32.max), "OpenCLBackend.\(name): argument \(value) exceeds 32 bits")
            var v = Int32(value)
            status = openCL.clSetKernelArg(kernel, i, 4, &v)
        case .scalar(let value):
            if dtype == .float64 {
                var v = value
                status = openCL.clSetKernelArg(kernel, i, 8, &v)
            } else {
                var v = Float(value)
                status = openCL.clSetKernelArg(kernel, i, 4, &v)
            }
        case .float(let value):
            var v = value
            status = openCL.clSetKernelArg(kernel, i, 4, &v)
        case .uint(let value):
            var v = value
            status = openCL.clSetKernelArg(kernel, i, 4, &v)
        case .int8(let values):
            require(values.count <= 8, "OpenCLBackend.\(name): rank \(values.count) exceeds the 8 axes kernels support")
            var v = [Int32](repeating: 0, count: 8)
            for (k, value) in values.enumerated() { v[k] = Int32(value) }
            status = openCL.clSetKernelArg(kernel, i, 32, &v)
        case .local(let bytes):
            status = openCL.clSetKernelArg(kernel, i, bytes, nil)
        }
        try check(status, "clSetKernelArg(\(name), argument \(index))")
    }
}
