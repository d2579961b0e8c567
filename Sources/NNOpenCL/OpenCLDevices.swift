import COpenCL
import NNBackend

/// What the OpenCL runtime reports about one device.
///
/// `@unchecked Sendable`: all constants; the platform and device IDs are
/// OpenCL handles, which the OpenCL specification makes safe to use from any
/// thread, but which Swift sees as plain pointers.
public struct OpenCLDeviceInfo: CustomStringConvertible, @unchecked Sendable {
    public enum Kind: String, Sendable { case gpu, cpu, accelerator, other }

    public let platformIndex: Int
    public let deviceIndex: Int
    public let platformName: String
    public let name: String
    public let kind: Kind
    public let computeUnits: Int
    public let globalMemoryBytes: UInt64
    public let maxAllocationBytes: UInt64
    public let localMemoryBytes: UInt64
    public let maxWorkGroupSize: Int
    public let driverVersion: String
    public let deviceVersion: String
    public let supportsFloat64: Bool

    let platformID: cl_platform_id
    let deviceID: cl_device_id

    /// The `NN_BACKEND` name that selects this device.
    public var spec: String { "opencl:\(platformIndex):\(deviceIndex)" }

    public var description: String {
        "\(spec) \(name) [\(kind.rawValue), \(computeUnits) CUs, \(globalMemoryBytes >> 20) MiB, driver \(driverVersion), \(platformName)]"
    }
}

/// Enumerates OpenCL platforms and devices through the ICD loader.
public enum OpenCLDevices {
    /// Every device of every platform, in platform order. Throws when the
    /// ICD loader finds no platform at all, or when there is no loader.
    public static func all() throws -> [OpenCLDeviceInfo] {
        _ = try OpenCLLibrary.load()
        var platformCount: cl_uint = 0
        let status = openCL.clGetPlatformIDs(0, nil, &platformCount)
        if status == -1001 || platformCount == 0 {  // CL_PLATFORM_NOT_FOUND_KHR
            throw OpenCLError.noDevice(requested: "any", found: "no OpenCL platform (is an ICD such as pocl-opencl-icd installed?)")
        }
        try check(status, "clGetPlatformIDs")
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try check(openCL.clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs")
        var result: [OpenCLDeviceInfo] = []
        for (p, platform) in platforms.enumerated() {
            guard let platform else { continue }
            let platformName = platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
            var deviceCount: cl_uint = 0
            guard openCL.clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount) == CL_SUCCESS,
                  deviceCount > 0 else { continue }
            var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            try check(openCL.clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &devices, nil), "clGetDeviceIDs")
            for (d, device) in devices.enumerated() {
                guard let device else { continue }
                let type: cl_device_type = deviceValue(device, CL_DEVICE_TYPE)
                let kind: OpenCLDeviceInfo.Kind =
                    type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
                    : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
                    : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
                let fp64Config: cl_device_fp_config = deviceValue(device, CL_DEVICE_DOUBLE_FP_CONFIG)
                let units: cl_uint = deviceValue(device, CL_DEVICE_MAX_COMPUTE_UNITS)
                let workGroup: Int = deviceValue(device, CL_DEVICE_MAX_WORK_GROUP_SIZE)
                result.append(OpenCLDeviceInfo(
                    platformIndex: p, deviceIndex: d, platformName: platformName,
                    name: deviceString(device, CL_DEVICE_NAME), kind: kind,
                    computeUnits: Int(units),
                    globalMemoryBytes: deviceValue(device, CL_DEVICE_GLOBAL_MEM_SIZE),
                    maxAllocationBytes: deviceValue(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                    localMemoryBytes: deviceValue(device, CL_DEVICE_LOCAL_MEM_SIZE),
                    maxWorkGroupSize: workGroup,
                    driverVersion: deviceString(device, CL_DRIVER_VERSION),
                    deviceVersion: deviceString(device, CL_DEVICE_VERSION),
                    supportsFloat64: fp64Config != 0,
                    platformID: platform, deviceID: device))
            }
        }
        return result
    }

    static func platformString(_ platform: cl_platform_id, _ param: cl_platform_info) -> String {
        var size = 0
        guard openCL.clGetPlatformInfo(platform, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard openCL.clGetPlatformInfo(platform, param, size, &bytes, nil) == CL_SUCCESS else { return "" }
        return String(nulTerminated: bytes)
    }

    static func deviceString(_ device: cl_device_id, _ param: Int32) -> String {
        var size = 0
        guard openCL.clGetDeviceInfo(device, cl_device_info(param), 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard openCL.clGetDeviceInfo(device, cl_device_info(param), size, &bytes, nil) == CL_SUCCESS else { return "" }
        return String(nulTerminated: bytes)
    }

    static func deviceValue<T: FixedWidthInteger>(_ device: cl_device_id, _ param: Int32) -> T {
        var value: T = 0
        _ = openCL.clGetDeviceInfo(device, cl_device_info(param), MemoryLayout<T>.size, &value, nil)
        return value
    }
}
