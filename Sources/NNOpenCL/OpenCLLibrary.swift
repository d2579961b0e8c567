import COpenCL
import Foundation
import NNBackend

/// The OpenCL entry points the backend calls, resolved from the ICD loader
/// with `dlopen` at run time rather than linked, so every binary starts, and
/// trains on the CPU, on a machine with no OpenCL installed.
///
/// Where the loader comes from, first match wins:
/// 1. `NN_OPENCL_LIBRARY`, when set: that file and nothing else;
/// 2. entry points already in the process (an OpenCL runtime preloaded with
///    `LD_PRELOAD`, as Oclgrind runs a program under its simulator);
/// 3. `libOpenCL.so.1`, then `libOpenCL.so`, on the usual library path.
struct OpenCLLibrary: @unchecked Sendable {  // C function pointers: immutable after load
    let clGetPlatformIDs: cl_api_clGetPlatformIDs
    let clGetPlatformInfo: cl_api_clGetPlatformInfo
    let clGetDeviceIDs: cl_api_clGetDeviceIDs
    let clGetDeviceInfo: cl_api_clGetDeviceInfo
    let clCreateContext: cl_api_clCreateContext
    let clReleaseContext: cl_api_clReleaseContext
    let clCreateCommandQueue: cl_api_clCreateCommandQueue
    let clReleaseCommandQueue: cl_api_clReleaseCommandQueue
    let clFinish: cl_api_clFinish
    let clCreateBuffer: cl_api_clCreateBuffer
    let clReleaseMemObject: cl_api_clReleaseMemObject
    let clEnqueueReadBuffer: cl_api_clEnqueueReadBuffer
    let clEnqueueWriteBuffer: cl_api_clEnqueueWriteBuffer
    let clEnqueueFillBuffer: cl_api_clEnqueueFillBuffer
    let clEnqueueCopyBuffer: cl_api_clEnqueueCopyBuffer
    let clCreateProgramWithSource: cl_api_clCreateProgramWithSource
    let clCreateProgramWithBinary: cl_api_clCreateProgramWithBinary
    let clBuildProgram: cl_api_clBuildProgram
    let clGetProgramInfo: cl_api_clGetProgramInfo
    let clGetProgramBuildInfo: cl_api_clGetProgramBuildInfo
    let clReleaseProgram: cl_api_clReleaseProgram
    let clCreateKernel: cl_api_clCreateKernel
    let clReleaseKernel: cl_api_clReleaseKernel
    let clSetKernelArg: cl_api_clSetKernelArg
    let clGetKernelWorkGroupInfo: cl_api_clGetKernelWorkGroupInfo
    let clEnqueueNDRangeKernel: cl_api_clEnqueueNDRangeKernel
    let clWaitForEvents: cl_api_clWaitForEvents
    let clGetEventProfilingInfo: cl_api_clGetEventProfilingInfo
    let clReleaseEvent: cl_api_clReleaseEvent

    /// The process's loader, opened on first use; the same result (or the
    /// same error) every time after.
    static func load() throws -> OpenCLLibrary { try loaded.get() }

    fileprivate static let loaded = Result { () throws(OpenCLError) in try OpenCLLibrary() }

    static let candidates = ["libOpenCL.so.1", "libOpenCL.so"]

    private init() throws(OpenCLError) {
        let environment = ProcessInfo.processInfo.environment
        // Where the entry points come from (a path, or "process"), for errors.
        let handle: UnsafeMutableRawPointer, origin: String
        if let path = environment["NN_OPENCL_LIBRARY"], !path.isEmpty {
            guard let opened = dlopen(path, RTLD_NOW) else {
                throw OpenCLError.loaderNotFound(tried: ["\(path) (NN_OPENCL_LIBRARY): \(OpenCLLibrary.dlerrorText())"])
            }
            (handle, origin) = (opened, path)
        } else if let process = dlopen(nil, RTLD_NOW), dlsym(process, "clGetPlatformIDs") != nil {
            (handle, origin) = (process, "process")
        } else {
            var tried: [String] = []
            var opened: (UnsafeMutableRawPointer, String)?
            for name in OpenCLLibrary.candidates {
                if let library = dlopen(name, RTLD_NOW) {
                    opened = (library, name)
                    break
                }
                tried.append("\(name): \(OpenCLLibrary.dlerrorText())")
            }
            guard let opened else { throw OpenCLError.loaderNotFound(tried: tried) }
            (handle, origin) = opened
        }
        func function<F>(_ name: String) throws(OpenCLError) -> F {
            guard let address = dlsym(handle, name) else {
                throw OpenCLError.loaderNotFound(tried: ["\(origin): has no \(name) (not an OpenCL 1.2 loader)"])
            }
            return unsafeBitCast(address, to: F.self)
        }
        clGetPlatformIDs = try function("clGetPlatformIDs")
        clGetPlatformInfo = try function("clGetPlatformInfo")
        clGetDeviceIDs = try function("clGetDeviceIDs")
        clGetDeviceInfo = try function("clGetDeviceInfo")
        clCreateContext = try function("clCreateContext")
        clReleaseContext = try function("clReleaseContext")
        clCreateCommandQueue = try function("clCreateCommandQueue")
        clReleaseCommandQueue = try function("clReleaseCommandQueue")
        clFinish = try function("clFinish")
        clCreateBuffer = try function("clCreateBuffer")
        clReleaseMemObject = try function("clReleaseMemObject")
        clEnqueueReadBuffer = try function("clEnqueueReadBuffer")
        clEnqueueWriteBuffer = try function("clEnqueueWriteBuffer")
        clEnqueueFillBuffer = try function("clEnqueueFillBuffer")
        clEnqueueCopyBuffer = try function("clEnqueueCopyBuffer")
        clCreateProgramWithSource = try function("clCreateProgramWithSource")
        clCreateProgramWithBinary = try function("clCreateProgramWithBinary")
        clBuildProgram = try function("clBuildProgram")
        clGetProgramInfo = try function("clGetProgramInfo")
        clGetProgramBuildInfo = try function("clGetProgramBuildInfo")
        clReleaseProgram = try function("clReleaseProgram")
        clCreateKernel = try function("clCreateKernel")
        clReleaseKernel = try function("clReleaseKernel")
        clSetKernelArg = try function("clSetKernelArg")
        clGetKernelWorkGroupInfo = try function("clGetKernelWorkGroupInfo")
        clEnqueueNDRangeKernel = try function("clEnqueueNDRangeKernel")
        clWaitForEvents = try function("clWaitForEvents")
        clGetEventProfilingInfo = try function("clGetEventProfilingInfo")
        clReleaseEvent = try function("clReleaseEvent")
    }

    private static func dlerrorText() -> String { dlerror().map { String(cString: $0) } ?? "not found" }
}

/// The loaded OpenCL entry points, for code that only runs behind a
/// successful `OpenCLLibrary.load()`: every OpenCL object comes from
/// `OpenCLDevices.all()`, which loads first.
var openCL: OpenCLLibrary {
    switch OpenCLLibrary.loaded {
    case .success(let library): return library
    case .failure(let error): requirementFailed("OpenCL called without a loader: \(error)")
    }
}
