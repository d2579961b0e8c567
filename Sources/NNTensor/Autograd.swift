import NNBackend
import Synchronization

/// One recorded operation (or a leaf) of the autograd graph.
///
/// A node holds its parents (one per op input; nil where that input needs no
/// gradient) and the closure that maps the gradient of its output to the
/// gradients of its inputs. Leaves have no closure and accumulate `grad`.
///
/// Tensors, and so their nodes, may be handed to other tasks: two tasks can
/// run forward and backward passes through the same parameters at once.
/// Everything a pass changes (a leaf's gradient, a freed interior node) is
/// behind the node's mutex, and a leaf's accumulation is one locked
/// read-add-write, so concurrent passes add their gradients as sequential
/// ones would.
package final class GradNode: Sendable {
    /// Maps the output's gradient to one gradient per input; the flags say
    /// which inputs want one (those with a parent node).
    package typealias Backward = @Sendable (_ grad: Tensor, _ needs: [Bool]) -> [Tensor?]

    let name: String
    let shape: [Int]
    let isLeaf: Bool
    /// Creation order, process-wide. A node's parents exist before it, so
    /// they have smaller numbers: taking nodes from the highest number down
    /// visits each after every node that consumes it, which is how a
    /// backward pass orders its work (as PyTorch's engine orders its ready
    /// queue by sequence number) without a topological sort first.
    let sequence: UInt64
    private static let nextSequence = Atomic<UInt64>(0)

    private struct State {
        var parents: [GradNode?]
        var backward: Backward?
        var grad: Tensor?
        /// Run with `grad` each time a backward pass has finished
        /// accumulating into this leaf (a parameter's hooks, shared with
        /// every node it gets).
        var postAccumulateHooks: GradHooks?
    }
    private let state: Mutex<State>

    init(name: String, shape: [Int], parents: [GradNode?], backward: Backward?) {
        self.name = name
        self.shape = shape
        isLeaf = backward == nil
        sequence = GradNode.nextSequence.wrappingAdd(1, ordering: .relaxed).oldValue
        state = Mutex(State(parents: parents, backward: backward))
    }

    var grad: Tensor? {
        get { state.withLock { $0.grad } }
        set { state.withLock { $0.grad = newValue } }
    }

    package var postAccumulateHooks: GradHooks? {
        get { state.withLock { $0.postAccumulateHooks } }
        set { state.withLock { $0.postAccumulateHooks = newValue } }
    }

    /// Adds `g` to the leaf's gradient and returns the sum, in one step, so
    /// that two passes accumulating at once lose neither gradient.
    func accumulate(_ g: Tensor) -> Tensor {
        state.withLock { s in
            let sum = s.grad.map { $0 + g } ?? g
            s.grad = sum
            return sum
        }
    }

    /// The closure for one backward pass and the parents to send its
    /// gradients to. Without `retain`, drops both, with the inputs the
    /// closure saved, as PyTorch frees a graph's saved tensors; nil once
    /// dropped.
    func takeBackward(retain: Bool) -> (backward: Backward, parents: [GradNode?])? {
        state.withLock { s in
            guard let backward = s.backward else { return nil }
            let parents = s.parents
            if !retain {
                s.backward = nil
                s.parents = []
            }
            return (backward, parents)
        }
    }

    /// Frees the graph behind this node iteratively. Left to ARC, each node
    /// would be released from inside its child's deinit, one stack frame per
    /// level: an RNN unrolled over a long sequence overflows the stack. Here
    /// every node this one solely owns is detached from its own parents (and
    /// its closure, which captures its inputs) before it is released.
    deinit {
        var pending = state.withLock { s in
            defer { s.parents = []; s.backward = nil }
            return s.parents.compactMap { $0 }
        }
        while var node = pending.popLast() {
            guard isKnownUniquelyReferenced(&node) else { continue }
            pending.append(contentsOf: node.state.withLock { s in
                defer { s.parents = []; s.backward = nil }
                return s.parents.compactMap { $0 }
            })
        }
    }
}

/// Callbacks a leaf runs when its gradient for a backward pass is complete
/// (PyTorch's post-accumulate-grad hooks): data-parallel training starts
/// averaging a bucket of gradients while the backward pass goes on.
package final class GradHooks: Sendable {
    package typealias Hook = @Sendable (Tensor) -> Void
    private let hooks = Mutex<(entries: [(id: Int, hook: Hook)], nextID: Int)>(([], 0))

    package init() {}

    package func add(_ hook: @escaping Hook) -> Int {
        hooks.withLock { h in
            h.nextID += 1
            h.entries.append((h.nextID, hook))
            return h.nextID
        }
    }

    package func remove(_ id: Int) { hooks.withLock { $0.entries.removeAll { $0.id == id } } }

    /// Runs the hooks outside the lock: a hook may add or remove hooks.
    package func run(_ grad: Tensor) {
        for entry in hooks.withLock({ $0.entries }) { entry.hook(grad) }
    }
}

/// Gradient recording on or off for the current task (and thread).
public enum GradMode {
    @TaskLocal static var isEnabled = true

    /// Whether operations record gradients right now.
    public static var enabled: Bool { isEnabled }
}

/// Runs `body` without recording gradients (inference, optimizer updates).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Whether gradients flow to (or through) this tensor. Setting it to true
    /// makes this value a leaf whose `grad` `backward()` fills; setting it to
    /// false detaches it.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                require(dtype.isFloatingPoint, "requiresGrad: \(dtype) tensor \(shape) cannot have gradients")
                if node == nil { node = GradNode(name: "leaf", shape: shape, parents: [], backward: nil) }
            } else {
                node = nil
            }
        }
    }

    /// This tensor as a new gradient-requiring leaf.
    public func requiringGrad() -> Tensor {
        var t = detached()
        t.requiresGrad = true
        return t
    }

    /// The same data, cut off from the graph.
    public func detached() -> Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// True for user-created tensors (and tensors that need no gradient).
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// The accumulated gradient of a leaf after `backward()`; nil before.
    public var grad: Tensor? {
        get { node?.grad }
        nonmutating set {
            require(node?.isLeaf ?? false, "grad: only a leaf that requires grad holds a gradient (\(shape))")
            if let g = newValue {
                require(g.shape == shape, ShapeErrors.mismatch("grad", g.shape, shape, "gradient shape differs from the tensor's"))
            }
            node?.grad = newValue
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { node?.grad = nil }

    /// Back-propagates from this tensor: `gradient` defaults to 1 for a
    /// one-element tensor. Gradients accumulate into the leaves' `grad`.
    ///
    /// As in PyTorch, the pass frees the graph it walked (each op's saved
    /// inputs), so a second backward through any of it stops with a message;
    /// `retainGraph: true` keeps the graph for another pass.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        guard let root = node else {
            requirementFailed("backward: tensor \(shape) does not require grad (no input had requiresGrad set)")
        }
        let seed: Tensor
        if let gradient {
            require(gradient.shape == shape, ShapeErrors.mismatch("backward", gradient.shape, shape, "gradient shape differs from the output's"))
            Tensor.checkCompatible("backward", gradient, self)
            seed = gradient.detached()
        } else {
            require(count == 1, "backward: implicit gradient needs a one-element output, got shape \(shape)")
            seed = Tensor.ones(shape, dtype: dtype, on: device)
        }
        withNoGrad {
            // The nodes that have received a gradient and not yet passed it
            // on, latest first: when one is taken, every node that
            // consumes it (created later) has already sent its share.
            var grads = NodeTable<Tensor>()
            var ready = GradNodeHeap()
            grads[root] = seed
            ready.push(root)
            while let node = ready.popLatest() {
                guard let g = grads.take(node) else { continue }
                if node.isLeaf {
                    let accumulated = node.accumulate(g)
                    // This leaf's gradient for the pass is final: a leaf is
                    // visited once, after every node that consumes it.
                    node.postAccumulateHooks?.run(accumulated)
                    continue
                }
                guard let (backward, parents) = node.takeBackward(retain: retainGraph) else {
                    requirementFailed("backward: trying to backward through the graph a second time: the saved values of "
                                      + "\(node.name) (output \(node.shape)) were freed by an earlier backward(). Pass "
                                      + "retainGraph: true to the first backward() to keep the graph for another pass")
                }
                let inputGrads = backward(g, parents.map { $0 != nil })
                require(inputGrads.count == parents.count,
                             "backward: \(node.name) returned \(inputGrads.count) gradients for \(parents.count) inputs")
                for (parent, grad) in zip(parents, inputGrads) {
                    guard let parent, let grad else { continue }
                    require(grad.shape == parent.shape,
                                 ShapeErrors.mismatch("backward of \(node.name)", grad.shape, parent.shape, "gradient shape differs from the input's"))
                    if let pending = grads[parent] {
                        grads[parent] = pending + grad
                    } else {
                        grads[parent] = grad
                        ready.push(parent)
                    }
                }
            }
        }
    }

    /// Records `output` as the result of `name` applied to `inputs`, when
    /// recording is on and some input requires grad. `backward` maps the
    /// output gradient to one gradient per input; `needs[i]` says whether
    /// input i wants one (return nil for those that don't).
    package static func record(_ name: String, inputs: [Tensor], output: Tensor,
                       backward: @escaping @Sendable (_ grad: Tensor, _ needs: [Bool]) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return output }
        var out = output
        out.node = GradNode(name: name, shape: output.shape, parents: inputs.map { $0.node }, backward: backward)
        return out
    }

    /// A user-defined differentiable operation with an explicit forward and
    /// backward (the "write your own layer" pattern of the course notes):
    ///
    ///     let y = Tensor.differentiable("cube", [x],
    ///         forward: { $0[0] * $0[0] * $0[0] },
    ///         backward: { g, inputs, _ in [g * 3 * inputs[0] * inputs[0]] })
    ///
    /// `forward` and `backward` run with recording off and may use any tensor
    /// ops. `backward` returns one gradient (or nil) per input, each shaped
    /// like that input. Check it with `GradientCheck`.
    public static func differentiable(_ name: String, _ inputs: [Tensor],
                                      forward: ([Tensor]) -> Tensor,
                                      backward: @escaping @Sendable (_ gradOutput: Tensor, _ inputs: [Tensor], _ output: Tensor) -> [Tensor?]) -> Tensor {
        let detachedInputs = inputs.map { $0.detached() }
        let output = withNoGrad { forward(detachedInputs) }.detached()
        return record(name, inputs: inputs, output: output) { g, needs in
            let grads = backward(g, detachedInputs, output)
            require(grads.count == inputs.count, "\(name): backward returned \(grads.count) gradients for \(inputs.count) inputs")
            return zip(grads, needs).map { $1 ? $0 : nil }
        }
    }
}

/// A binary max-heap of nodes by sequence number: the backward pass's
/// queue of nodes ready to pass their gradient on.
struct GradNodeHeap {
    private var nodes: [GradNode] = []

    init() { nodes.reserveCapacity(16) }

    mutating func push(_ node: GradNode) {
        nodes.append(node)
        var child = nodes.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard nodes[parent].sequence < nodes[child].sequence else { break }
            nodes.swapAt(parent, child)
            child = parent
        }
    }

    /// The node created last, removed; nil when empty.
    mutating func popLatest() -> GradNode? {
        guard !nodes.isEmpty else { return nil }
        nodes.swapAt(0, nodes.count - 1)
        let latest = nodes.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < nodes.count && nodes[left].sequence > nodes[largest].sequence { largest = left }
            if right < nodes.count && nodes[right].sequence > nodes[largest].sequence { largest = right }
            if largest == parent { break }
            nodes.swapAt(parent, largest)
            parent = largest
        }
        return latest
    }
}

/// Values keyed by node identity for one backward pass. A small graph's
/// pass (a handful of ops on tiny tensors) spent more time hashing node
/// identities, and growing the hash tables, than in its ops; up to
/// `linearLimit` entries a scan of an array is cheaper, and past it the
/// table indexes itself with a dictionary.
struct NodeTable<Value> {
    private static var linearLimit: Int { 32 }
    private var keys: [ObjectIdentifier] = []
    private var values: [Value?] = []
    private var positions: [ObjectIdentifier: Int]?

    /// Room for a small graph from the start: growing 1, 2, 4, ... cost
    /// more than the lookups.
    init() {
        keys.reserveCapacity(Self.linearLimit)
        values.reserveCapacity(Self.linearLimit)
    }

    private func position(of key: ObjectIdentifier) -> Int? {
        if let positions { return positions[key] }
        return keys.firstIndex(of: key)
    }

    subscript(node: GradNode) -> Value? {
        get { position(of: ObjectIdentifier(node)).flatMap { values[$0] } }
        set {
            let key = ObjectIdentifier(node)
            if let i = position(of: key) {
                values[i] = newValue
                return
            }
            keys.append(key)
            values.append(newValue)
            if positions != nil {
                positions![key] = keys.count - 1
            } else if keys.count > Self.linearLimit {
                positions = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
            }
        }
    }

    /// The value for `node`, removed.
    mutating func take(_ node: GradNode) -> Value? {
        guard let i = position(of: ObjectIdentifier(node)) else { return nil }
        defer { values[i] = nil }
        return values[i]
    }
}
