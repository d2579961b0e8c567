/// The strided copy (Kernels/layout.cl): one work-item per element.
extension OpenCLBackend {
    public func copyStrided(_ src: DeviceBuffer, _ srcView: StridedView, to dst: DeviceBuffer, _ dstView: StridedView,
                            shape: [Int], accumulate: Bool) {
        let sb = cl(src, "copyStrided"), db = cl(dst, "copyStrided")
        require(sb.dtype == db.dtype, "OpenCLBackend.copyStrided: \(sb.dtype) to \(db.dtype)")
        require(srcView.strides.count == shape.count && dstView.strides.count == shape.count && shape.count <= 8,
                     "OpenCLBackend.copyStrided: shape \(shape) with strides \(srcView.strides) and \(dstView.strides) (kernels take at most 8 axes)")
        require(!accumulate || sb.dtype.isFloatingPoint, "OpenCLBackend.copyStrided: accumulate needs floats")
        require(srcView.fits(shape: shape, in: sb.count) && dstView.fits(shape: shape, in: db.count),
                     "OpenCLBackend.copyStrided: shape \(shape) walks outside the buffers (\(sb.count) -> \(db.count))")
        let count = shape.reduce(1, *)
        if count == 0 { return }
        let name = accumulate ? "add_strided" : (sb.dtype == .float64 ? "copy_strided_64" : "copy_strided_32")
        launch(.layout, name, dtype: sb.dtype == .float64 ? .float64 : .float32, global: count,
               .buffer(sb), .int(srcView.offset), .int8(srcView.strides), .buffer(db), .int(dstView.offset),
               .int8(dstView.strides), .int(shape.count), .int8(shape), .int(count))
    }
}
