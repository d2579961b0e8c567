import Foundation
import NNBackend

/// Optimizer steps in place on the device (Kernels/optim.cl), one work-item
/// per parameter, hyper-parameters converted as the CPU backend converts
/// them.
extension OpenCLBackend {
    public func sgdStep(param: DeviceBuffer, grad: DeviceBuffer, momentumBuffer: DeviceBuffer?, count: Int,
                        hyper h: SGDHyperparameters, firstStep: Bool) {
        let pb = cl(param, "sgdStep"), gb = cl(grad, "sgdStep"), mb = momentumBuffer.map { cl($0, "sgdStep") }
        require(h.momentum == 0 || mb != nil, "OpenCLBackend.sgdStep: momentum \(h.momentum) needs a momentum buffer")
        require(pb.dtype == gb.dtype && pb.dtype.isFloatingPoint && (mb == nil || mb!.dtype == pb.dtype)
                     && pb.count >= count && gb.count >= count && (mb == nil || mb!.count >= count),
                     "OpenCLBackend.sgdStep: \(count) elements, buffers \(pb.count)/\(gb.count)/\(mb?.count ?? 0) \(pb.dtype)")
        let useMomentum = h.momentum != 0 && mb != nil
        launch(.optim, "sgd_step", dtype: pb.dtype, global: count,
               .buffer(pb), .buffer(gb), .buffer(useMomentum ? mb : nil), .int(count),
               .scalar(h.learningRate), .scalar(h.weightDecay), .scalar(h.momentum), .scalar(h.dampening),
               .int(useMomentum ? 1 : 0), .int(h.nesterov ? 1 : 0), .int(firstStep ? 1 : 0))
    }

    public func adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                         hyper h: AdamHyperparameters, step: Int) {
        let bufs = [param, grad, m, v].map { cl($0, "adamStep") }
        require(step >= 1, "OpenCLBackend.adamStep: step \(step) must start at 1")
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count } && bufs[0].dtype.isFloatingPoint,
                     "OpenCLBackend.adamStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        // 1 - beta in Double before rounding to the dtype, as the CPU backend.
        let scalars = h.stepScalars(step: step)
        launch(.optim, "adam_step", dtype: bufs[0].dtype, global: count,
               .buffer(bufs[0]), .buffer(bufs[1]), .buffer(bufs[2]), .buffer(bufs[3]), .int(count),
               .scalar(h.beta1), .scalar(h.beta2), .scalar(1 - h.beta1), .scalar(1 - h.beta2), .scalar(h.epsilon),
               .scalar(h.weightDecay), .scalar(scalars.stepSize), .scalar(scalars.rootCorrection2),
               .scalar(scalars.decay), .int(h.decoupledWeightDecay ? 1 : 0))
    }

    public func adagradStep(param: DeviceBuffer, grad: DeviceBuffer, sum: DeviceBuffer, count: Int,
                            hyper h: AdagradHyperparameters, step: Int) {
        let bufs = [param, grad, sum].map { cl($0, "adagradStep") }
        require(step >= 1, "OpenCLBackend.adagradStep: step \(step) must start at 1")
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count } && bufs[0].dtype.isFloatingPoint,
                     "OpenCLBackend.adagradStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        let clr = h.stepSize(step: step)
        launch(.optim, "adagrad_step", dtype: bufs[0].dtype, global: count,
               .buffer(bufs[0]), .buffer(bufs[1]), .buffer(bufs[2]), .int(count),
               .scalar(clr), .scalar(h.weightDecay), .scalar(h.epsilon))
    }

    public func rmspropStep(param: DeviceBuffer, grad: DeviceBuffer, squareAvg: DeviceBuffer, gradAvg: DeviceBuffer?,
                            momentumBuffer: DeviceBuffer?, count: Int, hyper h: RMSpropHyperparameters) {
        let pb = cl(param, "rmspropStep"), gb = cl(grad, "rmspropStep"), sb = cl(squareAvg, "rmspropStep")
        let ab = gradAvg.map { cl($0, "rmspropStep") }, mb = momentumBuffer.map { cl($0, "rmspropStep") }
        require(!h.centered || ab != nil, "OpenCLBackend.rmspropStep: centered RMSprop needs a gradient-average buffer")
        require(h.momentum == 0 || mb != nil, "OpenCLBackend.rmspropStep: momentum \(h.momentum) needs a momentum buffer")
        let used = [pb, gb, sb] + (h.centered ? [ab!] : []) + (h.momentum != 0 ? [mb!] : [])
        require(used.allSatisfy { $0.dtype == pb.dtype && $0.count >= count } && pb.dtype.isFloatingPoint,
                     "OpenCLBackend.rmspropStep: \(count) elements, buffers \(used.map { "\($0.count) \($0.dtype)" })")
        launch(.optim, "rmsprop_step", dtype: pb.dtype, global: count,
               .buffer(pb), .buffer(gb), .buffer(sb), .buffer(h.centered ? ab : nil), .buffer(h.momentum != 0 ? mb : nil),
               .int(count), .scalar(h.learningRate), .scalar(h.alpha), .scalar(1 - h.alpha), .scalar(h.epsilon),
               .scalar(h.weightDecay), .scalar(h.momentum), .int(h.centered ? 1 : 0), .int(h.momentum != 0 ? 1 : 0))
    }
}
