import Foundation
import NNBackend

/// In-place optimizer steps, one pass over the parameters each.
extension CPUBackend {
    public func sgdStep(param: DeviceBuffer, grad: DeviceBuffer, momentumBuffer: DeviceBuffer?, count: Int,
                        hyper h: SGDHyperparameters, firstStep: Bool) {
        let pb = cpu(param, "sgdStep"), gb = cpu(grad, "sgdStep"), mb = momentumBuffer.map { cpu($0, "sgdStep") }
        require(h.momentum == 0 || mb != nil, "CPUBackend.sgdStep: momentum \(h.momentum) needs a momentum buffer")
        require(pb.dtype == gb.dtype && (mb == nil || mb!.dtype == pb.dtype)
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
        require(step >= 1, "CPUBackend.adamStep: step \(step) must start at 1")
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count },
                     "CPUBackend.adamStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        let scalars = h.stepScalars(step: step)
        func run<T: CPUScalar>(_: T.Type) {
            let p = bufs[0].pointer(T.self), g = bufs[1].pointer(T.self)
            let mp = bufs[2].pointer(T.self), vp = bufs[3].pointer(T.self)
            // 1 - beta in Double before rounding: 1 - Float(0.999) is off by
            // 1e-5 relative, which would bias v.
            let b1 = T(h.beta1), b2 = T(h.beta2), oneMinusB1 = T(1 - h.beta1), oneMinusB2 = T(1 - h.beta2)
            let eps = T(h.epsilon), wd = T(h.weightDecay)
            let stepSize = T(scalars.stepSize), rootCorrection2 = T(scalars.rootCorrection2)
            let decay = T(scalars.decay), decoupled = h.decoupledWeightDecay
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

    public func adagradStep(param: DeviceBuffer, grad: DeviceBuffer, sum: DeviceBuffer, count: Int,
                            hyper h: AdagradHyperparameters, step: Int) {
        let bufs = [param, grad, sum].map { cpu($0, "adagradStep") }
        require(step >= 1, "CPUBackend.adagradStep: step \(step) must start at 1")
        require(bufs.allSatisfy { $0.dtype == bufs[0].dtype && $0.count >= count },
                     "CPUBackend.adagradStep: \(count) elements, buffers \(bufs.map { "\($0.count) \($0.dtype)" })")
        let clr = h.stepSize(step: step)
        func run<T: CPUScalar>(_: T.Type) {
            let p = bufs[0].pointer(T.self), g = bufs[1].pointer(T.self), s = bufs[2].pointer(T.self)
            let lr = T(clr), wd = T(h.weightDecay), eps = T(h.epsilon)
            parallelFor(count) { r in
                for i in r {
                    let grad = g[i] + wd * p[i]
                    let sum = s[i] + grad * grad
                    s[i] = sum
                    p[i] -= lr * grad / (sum.squareRoot() + eps)
                }
            }
        }
        switch floatType(bufs[0], "adagradStep") {
        case .float64: run(Double.self)
        default: run(Float.self)
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
        func run<T: CPUScalar>(_: T.Type) {
            let p = pb.pointer(T.self), g = gb.pointer(T.self), sq = sb.pointer(T.self)
            let ga = h.centered ? ab!.pointer(T.self) : nil, buf = h.momentum != 0 ? mb!.pointer(T.self) : nil
            // 1 - alpha in Double before rounding, as for Adam's betas.
            let lr = T(h.learningRate), alpha = T(h.alpha), oneMinusAlpha = T(1 - h.alpha)
            let eps = T(h.epsilon), wd = T(h.weightDecay), mu = T(h.momentum)
            parallelFor(count) { r in
                for i in r {
                    let grad = g[i] + wd * p[i]
                    let s = alpha * sq[i] + oneMinusAlpha * grad * grad
                    sq[i] = s
                    var avg: T
                    if let ga {
                        let a = alpha * ga[i] + oneMinusAlpha * grad
                        ga[i] = a
                        avg = (s - a * a).squareRoot()
                    } else {
                        avg = s.squareRoot()
                    }
                    avg += eps
                    if let buf {
                        let b = mu * buf[i] + grad / avg
                        buf[i] = b
                        p[i] -= lr * b
                    } else {
                        p[i] -= lr * grad / avg
                    }
                }
            }
        }
        switch floatType(pb, "rmspropStep") {
        case .float64: run(Double.self)
        default: run(Float.self)
        }
    }
}
