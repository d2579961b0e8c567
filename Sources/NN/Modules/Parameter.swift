import Synchronization

/// A tensor a module owns by name: a trainable weight, or (with `trainable`
/// false) a state buffer such as BatchNorm's running mean.
///
/// A parameter is a reference: optimizers and checkpoints hold the same
/// object the module holds, so moving a module to another device, loading a
/// checkpoint or stepping an optimizer is seen by all of them.
///
/// `Sendable`: the value is behind a lock, so tasks that share a model see
/// each assignment whole.
public final class Parameter: Sendable {
    private let storage: Mutex<Tensor>
    public let trainable: Bool
    /// The gradient hooks, handed to every new value's leaf.
    private let hooks: GradHooks

    public init(_ tensor: Tensor, trainable: Bool = true) {
        let hooks = GradHooks()
        self.trainable = trainable
        self.hooks = hooks
        storage = Mutex(Parameter.adopted(tensor, trainable: trainable, hooks: hooks))
    }

    /// The current value; a gradient-requiring leaf when trainable.
    public var value: Tensor {
        get { storage.withLock { $0 } }
        set {
            storage.withLock { current in
                require(newValue.shape == current.shape && newValue.dtype == current.dtype,
                        ShapeErrors.mismatch("Parameter.value", current.shape, newValue.shape, "a parameter keeps its shape and dtype"))
                current = Parameter.adopted(newValue, trainable: trainable, hooks: hooks)
            }
        }
    }

    /// Whatever is assigned becomes a fresh leaf (trainable) or plain data
    /// (buffer): a parameter never hangs off someone's graph, nor takes over
    /// another parameter's leaf (and its hooks).
    private static func adopted(_ tensor: Tensor, trainable: Bool, hooks: GradHooks) -> Tensor {
        var value = tensor
        let othersLeaf = value.node?.postAccumulateHooks.map { $0 !== hooks } ?? false
        if trainable && (!(value.requiresGrad && value.isLeaf) || othersLeaf) {
            value = value.requiringGrad()
        } else if !trainable && value.requiresGrad {
            value = value.detached()
        }
        value.node?.postAccumulateHooks = hooks
        return value
    }

    /// Calls `hook` with the gradient each time a backward pass has finished
    /// accumulating it (PyTorch's `register_post_accumulate_grad_hook`): the
    /// pass goes on with the other parameters after the hook returns. The
    /// hook stays when the parameter gets a new value (a loaded checkpoint,
    /// another device). Runs with gradient recording off.
    @discardableResult
    public func registerPostAccumulateGradHook(_ hook: @escaping @Sendable (Tensor) -> Void) -> GradHookHandle {
        require(trainable, "Parameter.registerPostAccumulateGradHook: a buffer \(shape) gets no gradient")
        return GradHookHandle(hooks: hooks, id: hooks.add(hook))
    }

    /// The accumulated gradient; settable, as PyTorch's `p.grad = g`
    /// (same shape; nil clears it).
    public var grad: Tensor? {
        get { value.grad }
        set { value.grad = newValue }
    }
    public var shape: [Int] { value.shape }
    public var device: Device { value.device }

    public func zeroGrad() { value.zeroGrad() }

    /// Overwrites the values with `source`'s (same shape; converted to this
    /// parameter's dtype and device). The parameter stays the same object and
    /// its gradient is cleared.
    public func assign(_ source: Tensor) throws {
        require(source.shape == shape, ShapeErrors.mismatch("Parameter.assign", shape, source.shape, "shapes differ"))
        // A private copy: in-place optimizer steps must not reach `source`.
        let converted = try withNoGrad { try source.detached().to(value.device).to(dtype: value.dtype).copied() }
        value = trainable ? converted.requiringGrad() : converted.detached()
    }
}

/// Removes a hook `Parameter.registerPostAccumulateGradHook` added.
public struct GradHookHandle: Sendable {
    fileprivate let hooks: GradHooks
    fileprivate let id: Int

    public func remove() { hooks.remove(id) }
}
