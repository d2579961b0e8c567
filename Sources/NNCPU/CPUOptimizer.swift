import CPUKernels
import NNBackend

/// In-place optimizer steps, one pass over the parameters each: the C
/// loops of Sources/CPUKernels/optimizer_steps.c (float32 at the CPU's full
/// vector width), over ranges of elements spread on the pool's threads.
extension CPUBackend {
    public func sgdStep(param: DeviceBuffer, grad: DeviceBuffer, momentumBuffer: DeviceBuffer?, count: Int,
                        hyper h: SGDHyperparameters, firstStep: Bool) {
        let pb = cpu(param, "sgdStep"), gb = cpu(grad, "sgdStep"), mb = momentumBuffer.map { cpu($0, "sgdStep") }
        require(h.momentum == 0 || mb != nil, "CPUBackend.sgdStep: momentum \(h.momentum) needs a momentum buffer")
        require(pb.dtype == gb.dtype && (mb == nil || mb!.dtype == pb.dtype)
                     && pb.count >= count && gb.count >= count && (mb == nil || mb!.count >= count),
                     "CPUBackend.sgdStep: \(count) elements, buffers \(pb.count)/\(gb.count)/\(mb?.count ?? 0)")
        var hyper = nn_sgd_hyper(learning_rate: h.learningRate, weight_decay: h.weightDecay, momentum: h.momentum,
                                 dampening: h.dampening, nesterov: h.nesterov ? 1 : 0, first_step: firstStep ? 1 : 0)
        let momentum = h.momentum != 0 ? mb : nil
        let double = floatType(pb, "sgdStep") == .float64
        forEachRange(count) { b, e in
            if double {
                nn_sgd_step_f64(&hyper, pb.pointer(Double.self), gb.pointer(Double.self), momentum?.pointer(Double.self), b, e)
            } else {
                nn_sgd_step_f32(&hyper, pb.pointer(Float.self), gb.pointer(Float.self), momentum?.pointer(Float.self), b, e)
            }
        }
    }

    public func adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                         hyper h: AdamHyperparameters, step: Int) {
        let bufs = [param, grad, m, v].map { cpu($0, "adamStep") }
        require(step >= 1, "CPUBackend.adamStep: step \(step) must start at 1")
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count },
                     "CPUBackend.adamStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        let scalars = h.stepScalars(step: step)
        var hyper = nn_adam_hyper(beta1: h.beta1, beta2: h.beta2, one_minus_beta1: 1 - h.beta1, one_minus_beta2: 1 - h.beta2,
                                  epsilon: h.epsilon, weight_decay: h.weightDecay, step_size: scalars.stepSize,
                                  root_correction2: scalars.rootCorrection2, decay: scalars.decay,
                                  decoupled: h.decoupledWeightDecay ? 1 : 0)
        let (p, g, mb, vb) = (bufs[0], bufs[1], bufs[2], bufs[3])
        let double = floatType(p, "adamStep") == .float64
        forEachRange(count) { b, e in
            if double {
                nn_adam_step_f64(&hyper, p.pointer(Double.self), g.pointer(Double.self), mb.pointer(Double.self),
                                 vb.pointer(Double.self), b, e)
            } else {
                nn_adam_step_f32(&hyper, p.pointer(Float.self), g.pointer(Float.self), mb.pointer(Float.self),
                                 vb.pointer(Float.self), b, e)
            }
        }
    }

    public func adagradStep(param: DeviceBuffer, grad: DeviceBuffer, sum: DeviceBuffer, count: Int,
                            hyper h: AdagradHyperparameters, step: Int) {
        let bufs = [param, grad, sum].map { cpu($0, "adagradStep") }
        require(step >= 1, "CPUBackend.adagradStep: step \(step) must start at 1")
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count },
                     "CPUBackend.adagradStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        var hyper = nn_adagrad_hyper(learning_rate: h.stepSize(step: step), weight_decay: h.weightDecay, epsilon: h.epsilon)
        let (p, g, s) = (bufs[0], bufs[1], bufs[2])
        let double = floatType(p, "adagradStep") == .float64
        forEachRange(count) { b, e in
            if double {
                nn_adagrad_step_f64(&hyper, p.pointer(Double.self), g.pointer(Double.self), s.pointer(Double.self), b, e)
            } else {
                nn_adagrad_step_f32(&hyper, p.pointer(Float.self), g.pointer(Float.self), s.pointer(Float.self), b, e)
            }
        }
    }

    public func rmspropStep(param: DeviceBuffer, grad: DeviceBuffer, squareAvg: DeviceBuffer, gradAvg: DeviceBuffer?,
                            momentumBuffer: DeviceBuffer?, count: Int, hyper h: RMSpropHyperparameters) {
        let pb = cpu(param, "rmspropStep"), gb = cpu(grad, "rmspropStep"), sb = cpu(squareAvg, "rmspropStep")
        let ab = gradAvg.map { cpu($0, "rmspropStep") }, mb = momentumBuffer.map { cpu($0, "rmspropStep") }
        require(!h.centered || ab != nil, "CPUBackend.rmspropStep: centered RMSprop needs a gradient-average buffer")
        require(h.momentum == 0 || mb != nil, "CPUBackend.rmspropStep: momentum \(h.momentum) needs a momentum buffer")
        let all = [pb, gb, sb] + (h.centered ? [ab!] : []) + (h.momentum != 0 ? [mb!] : [])
        require(all.allSatisfy { $0.dtype == pb.dtype && $0.count >= count },
                     "CPUBackend.rmspropStep: \(count) elements, buffers \(all.map { "\($0.count) \($0.dtype)" })")
        // 1 - alpha in Double before rounding, as for Adam's betas.
        var hyper = nn_rmsprop_hyper(learning_rate: h.learningRate, alpha: h.alpha, one_minus_alpha: 1 - h.alpha,
                                     epsilon: h.epsilon, weight_decay: h.weightDecay, momentum: h.momentum)
        let average = h.centered ? ab : nil, momentum = h.momentum != 0 ? mb : nil
        let double = floatType(pb, "rmspropStep") == .float64
        forEachRange(count) { b, e in
            if double {
                nn_rmsprop_step_f64(&hyper, pb.pointer(Double.self), gb.pointer(Double.self), sb.pointer(Double.self),
                                    average?.pointer(Double.self), momentum?.pointer(Double.self), b, e)
            } else {
                nn_rmsprop_step_f32(&hyper, pb.pointer(Float.self), gb.pointer(Float.self), sb.pointer(Float.self),
                                    average?.pointer(Float.self), momentum?.pointer(Float.self), b, e)
            }
        }
    }

    /// `body(begin, end)` over 0..<count in ranges spread on the pool's
    /// threads.
    private func forEachRange(_ count: Int, _ body: (Int64, Int64) -> Void) {
        parallelFor(count) { r in body(Int64(r.lowerBound), Int64(r.upperBound)) }
    }
}
