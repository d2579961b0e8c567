import COpenCL
import NNBackend

/// An error from the OpenCL runtime or from a kernel build, with the name of
/// the CL status code and what was being done.
public enum OpenCLError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A CL call returned `code` while doing `operation`.
    case call(operation: String, code: Int32)
    /// A kernel program failed to build; `log` is the driver's build log.
    case build(program: String, device: String, log: String)
    /// No OpenCL platform or device matched what was asked; `found` lists
    /// what there is.
    case noDevice(requested: String, found: String)
    /// No OpenCL ICD loader could be opened; `tried` says what was tried
    /// and why each failed.
    case loaderNotFound(tried: [String])
    /// The device lacks a capability an operation needs (e.g. fp64).
    case unsupported(device: String, what: String)
    /// An op found an index outside [0, bound) on the device (gather,
    /// embedding, scatter-add, class labels); `position` is the index's
    /// element in the op's index tensor.
    case indexOutOfRange(op: String, index: Int, position: Int, bound: Int)

    public var description: String {
        switch self {
        case .call(let operation, let code):
            return "OpenCL error \(OpenCLError.name(of: code)) (\(code)) in \(operation)"
        case .build(let program, let device, let log):
            return "OpenCL kernel program '\(program)' failed to build on \(device):\n\(log)"
        case .noDevice(let requested, let found):
            return "no OpenCL device for '\(requested)'; found: \(found)"
        case .loaderNotFound(let tried):
            return "OpenCL loader not found (tried \(tried.joined(separator: "; "))); install one (Debian: ocl-icd-libopencl1 "
                + "and a driver such as pocl-opencl-icd) or name it in NN_OPENCL_LIBRARY"
        case .unsupported(let device, let what):
            return "OpenCL device \(device) does not support \(what)"
        case .indexOutOfRange(let op, let index, let position, let bound):
            return "\(op): index \(index) (element \(position) of the indices) is out of range 0..<\(bound); found on the "
                + "OpenCL device, reported at the next read-back (results computed from it are meaningless)"
        }
    }

    /// The CL_* name of a status code.
    public static func name(of code: Int32) -> String {
        switch code {
        case -1: return "CL_DEVICE_NOT_FOUND"
        case -2: return "CL_DEVICE_NOT_AVAILABLE"
        case -3: return "CL_COMPILER_NOT_AVAILABLE"
        case -4: return "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case -5: return "CL_OUT_OF_RESOURCES"
        case -6: return "CL_OUT_OF_HOST_MEMORY"
        case -7: return "CL_PROFILING_INFO_NOT_AVAILABLE"
        case -8: return "CL_MEM_COPY_OVERLAP"
        case -9: return "CL_IMAGE_FORMAT_MISMATCH"
        case -10: return "CL_IMAGE_FORMAT_NOT_SUPPORTED"
        case -11: return "CL_BUILD_PROGRAM_FAILURE"
        case -12: return "CL_MAP_FAILURE"
        case -13: return "CL_MISALIGNED_SUB_BUFFER_OFFSET"
        case -14: return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST"
        case -15: return "CL_COMPILE_PROGRAM_FAILURE"
        case -16: return "CL_LINKER_NOT_AVAILABLE"
        case -17: return "CL_LINK_PROGRAM_FAILURE"
        case -18: return "CL_DEVICE_PARTITION_FAILED"
        case -19: return "CL_KERNEL_ARG_INFO_NOT_AVAILABLE"
        case -30: return "CL_INVALID_VALUE"
        case -31: return "CL_INVALID_DEVICE_TYPE"
        case -32: return "CL_INVALID_PLATFORM"
        case -33: return "CL_INVALID_DEVICE"
        case -34: return "CL_INVALID_CONTEXT"
        case -35: return "CL_INVALID_QUEUE_PROPERTIES"
        case -36: return "CL_INVALID_COMMAND_QUEUE"
        case -37: return "CL_INVALID_HOST_PTR"
        case -38: return "CL_INVALID_MEM_OBJECT"
        case -39: return "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR"
        case -40: return "CL_INVALID_IMAGE_SIZE"
        case -41: return "CL_INVALID_SAMPLER"
        case -42: return "CL_INVALID_BINARY"
        case -43: return "CL_INVALID_BUILD_OPTIONS"
        case -44: return "CL_INVALID_PROGRAM"
        case -45: return "CL_INVALID_PROGRAM_EXECUTABLE"
        case -46: return "CL_INVALID_KERNEL_NAME"
        case -47: return "CL_INVALID_KERNEL_DEFINITION"
        case -48: return "CL_INVALID_KERNEL"
        case -49: return "CL_INVALID_ARG_INDEX"
        case -50: return "CL_INVALID_ARG_VALUE"
        case -51: return "CL_INVALID_ARG_SIZE"
        case -52: return "CL_INVALID_KERNEL_ARGS"
        case -53: return "CL_INVALID_WORK_DIMENSION"
        case -54: return "CL_INVALID_WORK_GROUP_SIZE"
        case -55: return "CL_INVALID_WORK_ITEM_SIZE"
        case -56: return "CL_INVALID_GLOBAL_OFFSET"
        case -57: return "CL_INVALID_EVENT_WAIT_LIST"
        case -58: return "CL_INVALID_EVENT"
        case -59: return "CL_INVALID_OPERATION"
        case -60: return "CL_INVALID_GL_OBJECT"
        case -61: return "CL_INVALID_BUFFER_SIZE"
        case -62: return "CL_INVALID_MIP_LEVEL"
        case -63: return "CL_INVALID_GLOBAL_WORK_SIZE"
        case -64: return "CL_INVALID_PROPERTY"
        case -65: return "CL_INVALID_IMAGE_DESCRIPTOR"
        case -66: return "CL_INVALID_COMPILER_OPTIONS"
        case -67: return "CL_INVALID_LINKER_OPTIONS"
        case -68: return "CL_INVALID_DEVICE_PARTITION_COUNT"
        case -69: return "CL_INVALID_PIPE_SIZE"
        case -70: return "CL_INVALID_DEVICE_QUEUE"
        case -71: return "CL_INVALID_SPEC_ID"
        case -72: return "CL_MAX_SIZE_RESTRICTION_EXCEEDED"
        case -1001: return "CL_PLATFORM_NOT_FOUND_KHR"
        default: return "unknown status"
        }
    }
}

/// Throws an `OpenCLError.call` unless `status` is CL_SUCCESS.
@inline(__always)
func check(_ status: cl_int, _ operation: @autoclosure () -> String) throws {
    if status != CL_SUCCESS { throw OpenCLError.call(operation: operation(), code: status) }
}
