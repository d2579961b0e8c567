import Foundation

/// In-place optimizer steps, one pass over the parameters each.
extension CPUBackend {
    public func sgdStep(param: DeviceBuffer, grad: DeviceBuffer, momentumBuffer: DeviceBuffer?, count: Int,
                        hyper h: SGDHyperparameters, firstStep: Bool) {
        let pb = cpu(param, "sgdStep"), gb = cpu(grad, "sgdStep"), mb = momentumBuffer.map { cpu($0, "sgdStep") }
        precondition(h.momentum == 0 || mb != nil, "CPUBackend.sgdStep: momentum \(h.momentum) needs a momentum buffer")
        precondition(pb.dtype == gb.dtype && (mb == nil || mb!.dtype == pb.dtype)
                     && pb.count >= count && gb.count >= count && (mb == nil || mb!.count >= count),
                     "CPUBackend.sgdStep: \(count) elements, buffers \(pb.count)/\(gb.count)/\(mb?.count ?? 0)")
        func run<T: CPUScalar>(_: T.Type) {
            let p = pb.pointer(T.self), g = gb.pointer(T.self), buf = mb?.pointer(T.self)
            let lr = T(h.learningRate), wd = T(h.weightDecay), mu = T(h.momentum), damp = 1 - T(h.dampening)
            let useMomentum = h.momentum != 0, nesterov = h.nesterov
            parallelFor(count) { r in
                for i in r {
                    var d = g[i] + wd * p[i]
                    if useMomentum, let buf {
                        buf[i] = firstStep ? d : mu * buf[i] + damp * d
                        d = nesterov ? d + mu * buf[i] : buf[i]
                    }
                    p[i] -= lr * d
                }
            }
        }
        switch floatType(pb, "sgdStep") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }

    public func adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                         hyper h: AdamHyperparameters, step: Int) {
        let bufs = [param, grad, m, v].map { cpu($0, "adamStep") }
        precondition(step >= 1, "CPUBackend.adamStep: step \(step) must start at 1")
        precondition(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count },
                     "CPUBackend.adamStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        // Bias corrections are computed once in Double, as PyTorch does on
        // the host.
        let correction1 = 1 - Foundation.pow(h.beta1, Double(step))
        let correction2 = 1 - Foundation.pow(h.beta2, Double(step))
        func run<T: CPUScalar>(_: T.Type) {
            let p = bufs[0].pointer(T.self), g = bufs[1].pointer(T.self)
            let mp = bufs[2].pointer(T.self), vp = bufs[3].pointer(T.self)
            // 1 - beta in Double before rounding: 1 - Float(0.999) is off by
            // 1e-5 relative, which would bias v.
            let b1 = T(h.beta1), b2 = T(h.beta2), oneMinusB1 = T(1 - h.beta1), oneMinusB2 = T(1 - h.beta2)
            let eps = T(h.epsilon), wd = T(h.weightDecay)
            let stepSize = T(h.learningRate / correction1), rootCorrection2 = T(correction2.squareRoot())
            let decay = T(1 - h.learningRate * h.weightDecay), decoupled = h.decoupledWeightDecay
            parallelFor(count) { r in
                for i in r {
                    var grad = g[i]
                    if decoupled { p[i] *= decay } else { grad += wd * p[i] }
                    mp[i] = b1 * mp[i] + oneMinusB1 * grad
                    vp[i] = b2 * vp[i] + oneMinusB2 * grad * grad
                    p[i] -= stepSize * mp[i] / (vp[i].squareRoot() / rootCorrection2 + eps)
                }
            }
        }
        switch floatType(bufs[0], "adamStep") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}
