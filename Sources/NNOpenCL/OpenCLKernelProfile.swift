import COpenCL
import Foundation
import NNBackend

/// Device time spent in one kernel (all its program variants together), or
/// in one kernel over one range of work-items. Buffer copies and fills
/// appear as "(copy)" and "(fill)".
public struct KernelTiming: Sendable, Equatable {
    public let kernel: String
    /// The global range, when the profile is split by range.
    public let range: [Int]?
    public let launches: Int
    /// Summed device time between each launch's start and end, as the
    /// driver's profiling events report it.
    public let deviceSeconds: Double
}

/// Per-kernel device times of a backend whose queue profiles
/// (`NN_PROFILE_KERNELS=1`, or `OpenCLBackend(device:profileKernels:)`):
/// each launch keeps its event, and the events are read in batches so a
/// long run holds a bounded number.
final class OpenCLKernelProfile {
    private struct Key: Hashable {
        let kernel: String
        let range: [Int]
    }
    private var pending: [(key: Key, event: cl_event)] = []
    private var totals: [Key: (launches: Int, nanoseconds: UInt64)] = [:]
    /// Events kept before they are read (each read waits for them).
    private let batch = 2048

    /// Called inside the backend's queue mutex with the event of a launch.
    func add(_ kernel: String, range: [Int], _ event: cl_event) throws {
        pending.append((Key(kernel: kernel, range: range), event))
        if pending.count >= batch { try collect() }
    }

    /// Waits for the pending launches and adds their times.
    func collect() throws {
        defer {
            for (_, event) in pending { _ = openCL.clReleaseEvent(event) }
            pending.removeAll(keepingCapacity: true)
        }
        for (key, event) in pending {
            var start: cl_ulong = 0, end: cl_ulong = 0
            try check(openCL.clWaitForEvents(1, [event]), "clWaitForEvents(\(key.kernel))")
            try check(openCL.clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil),
                      "clGetEventProfilingInfo(\(key.kernel), start)")
            try check(openCL.clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil),
                      "clGetEventProfilingInfo(\(key.kernel), end)")
            let old = totals[key] ?? (0, 0)
            totals[key] = (old.launches + 1, old.nanoseconds + (end > start ? end - start : 0))
        }
    }

    /// The totals so far, per kernel or per kernel and range, the most
    /// expensive first.
    func timings(byRange: Bool) throws -> [KernelTiming] {
        try collect()
        var merged: [Key: (launches: Int, nanoseconds: UInt64)] = [:]
        for (key, total) in totals {
            let k = byRange ? key : Key(kernel: key.kernel, range: [])
            let old = merged[k] ?? (0, 0)
            merged[k] = (old.launches + total.launches, old.nanoseconds + total.nanoseconds)
        }
        return merged.map {
            KernelTiming(kernel: $0.key.kernel, range: byRange ? $0.key.range : nil, launches: $0.value.launches,
                         deviceSeconds: Double($0.value.nanoseconds) / 1e9)
        }.sorted { ($0.deviceSeconds, $1.kernel) > ($1.deviceSeconds, $0.kernel) }
    }

    func reset() throws {
        try collect()
        totals.removeAll()
    }

    deinit {
        for (_, event) in pending { _ = openCL.clReleaseEvent(event) }
    }
}

extension OpenCLBackend {
    static let profilingHint = "kernel profiling unless it is made with profileKernels: true or NN_PROFILE_KERNELS=1 is set"

    /// NN_PROFILE_KERNELS=1 turns profiling on for every OpenCL backend.
    public static var profilingRequested: Bool { ProcessInfo.processInfo.environment["NN_PROFILE_KERNELS"] == "1" }

    /// Device time per kernel (`byRange`: per kernel and global range)
    /// since the backend was made or the last `resetKernelProfile()`; waits
    /// for queued work. Throws when the backend does not profile (make it
    /// with `profileKernels: true` or run with `NN_PROFILE_KERNELS=1`).
    public func kernelProfile(byRange: Bool = false) throws -> [KernelTiming] {
        try queueState.withLock { state in
            guard let profile = state.profile else { throw OpenCLError.unsupported(device: info.name, what: OpenCLBackend.profilingHint) }
            return try profile.timings(byRange: byRange)
        }
    }

    /// Calls `enqueue` with somewhere to put the command's event when the
    /// queue profiles (nil otherwise: an event per command costs time on
    /// every driver), and keeps the event under `label` and `range`.
    /// Returns the enqueue's status.
    func enqueueCommand(_ label: String, range: [Int], in state: inout QueueState,
                        _ enqueue: (UnsafeMutablePointer<cl_event?>?) -> cl_int) throws -> cl_int {
        guard let profile = state.profile else { return enqueue(nil) }
        var event: cl_event?
        let status = enqueue(&event)
        if status == CL_SUCCESS, let event { try profile.add(label, range: range, event) }
        return status
    }

    /// Forgets the times so far (after a warm-up).
    public func resetKernelProfile() throws {
        try queueState.withLock { state in
            guard let profile = state.profile else { throw OpenCLError.unsupported(device: info.name, what: OpenCLBackend.profilingHint) }
            try profile.reset()
        }
    }
}
