import COpenCL
import NNBackend

/// Device-side index checks. Kernels that index with data (gather and
/// embedding, scatter-add, cross-entropy's labels) record the first bad
/// index in a 4-int buffer (`report_bad_index` in Kernels/common.cl). The
/// buffer is read only at a download or synchronize that follows such an
/// op (16 bytes, while the queue is drained anyway), never per op; a bad
/// index throws `OpenCLError.indexOutOfRange` there, and the buffer is
/// cleared for the next check.
extension OpenCLBackend {
    /// The error buffer, made and zeroed on first use; marks a check due.
    func indexErrors() -> DeviceBuffer {
        queueState.withLock { state in
            state.indexChecksDue = true
            if let buffer = state.indexErrorBuffer { return buffer }
            let buffer = allocate(count: 4, dtype: .int32)
            if let error = buffer.allocationError { record(error, in: &state) }
            fill(buffer, value: 0, offset: 0, count: 4, in: &state)
            state.indexErrorBuffer = buffer
            return buffer
        }
    }

    /// Throws the first bad index recorded since the last check (inside the
    /// queue's mutex, from download and synchronize).
    func throwIndexErrors(in state: inout QueueState) throws {
        guard state.indexChecksDue, let buffer = state.indexErrorBuffer else { return }
        state.indexChecksDue = false
        var values = [Int32](repeating: 0, count: 4)
        let mem = try cl(buffer, "indexErrors").mem()
        try check(values.withUnsafeMutableBytes {
            openCL.clEnqueueReadBuffer(queue, mem, cl_bool(CL_TRUE), 0, 16, $0.baseAddress, 0, nil, nil)
        }, "clEnqueueReadBuffer(index checks) on \(info.name)")
        guard values[0] != 0 else { return }
        fill(buffer, value: 0, offset: 0, count: 4, in: &state)
        let op = [1: "gather", 2: "scatterAdd", 3: "softmaxCrossEntropy (class labels)"][Int(values[0])] ?? "op \(values[0])"
        throw OpenCLError.indexOutOfRange(op: op, index: Int(values[1]), position: Int(values[2]), bound: Int(values[3]))
    }
}
