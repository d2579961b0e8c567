import NNBackend

/// The strided copy (Kernels/layout.cl): one work-item per element of the
/// collapsed walk.
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
        let name = accumulate ? "add_strided" : (sb.dtype.byteSize == 8 ? "copy_strided_64" : "copy_strided_32")
        let collapsed = StridedWalk(shape: shape, source: srcView, destination: dstView)
        if !accumulate && collapsed.shape.count == 1 && collapsed.source.strides == [1] && collapsed.destination.strides == [1] {
            // A dense run: the driver's own copy.
            return copy(src, srcOffset: srcView.offset, to: dst, dstOffset: dstView.offset, count: count)
        }
        let walk = Walk(collapsed)
        launch(.layout, name, dtype: sb.dtype == .float64 ? .float64 : .float32, global: walk.range, local: nil,
               [.buffer(sb), .int(srcView.offset), .int8(walk.strides1), .buffer(db), .int(dstView.offset),
                .int8(walk.strides2), .int(walk.rank), .int8(walk.shape)])
    }
}

/// A walk of up to 8 axes in the form the kernels' `walk_offsets` takes
/// (Kernels/common.cl): axes innermost first, 8 lanes (unused: size 1,
/// stride 0), launched over (innermost axis, the next, the rest flattened).
struct Walk {
    let rank: Int
    let shape: [Int]
    let strides1: [Int]
    let strides2: [Int]

    init(shape: [Int], _ strides1: [Int], _ strides2: [Int]) {
        require(shape.count <= 8, "OpenCLBackend: a walk of rank \(shape.count) exceeds the 8 axes kernels support")
        let pad = 8 - shape.count
        rank = max(2, shape.count)
        self.shape = shape.reversed() + Array(repeating: 1, count: pad)
        self.strides1 = strides1.reversed() + Array(repeating: 0, count: pad)
        self.strides2 = strides2.reversed() + Array(repeating: 0, count: pad)
    }

    init(_ walk: StridedWalk) {
        self.init(shape: walk.shape, walk.source.strides, walk.destination.strides)
    }

    init(_ layout: BroadcastLayout) {
        self.init(shape: layout.shape, layout.aStrides, layout.bStrides)
    }

    var range: [Int] { [shape[0], shape[1], shape[2...].reduce(1, *)] }
}
