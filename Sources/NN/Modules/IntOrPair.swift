/// A size given for both spatial axes at once or for each: what PyTorch's
/// `kernel_size=5` / `kernel_size=(5, 3)` arguments take (its `_size_2_t`).
///
/// An integer literal means the same value for height and width, an array
/// literal of two gives (height, width):
///
///     Conv2d(1, 6, kernelSize: 5, padding: 2)
///     Conv2d(3, 8, kernelSize: [3, 2], stride: [2, 1])
///     MaxPool2d(2)
///
/// The layers also take plain tuples, `kernelSize: (5, 3)`, when every size
/// argument is written as one.
public struct IntOrPair: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    /// The height value.
    public let first: Int
    /// The width value.
    public let second: Int

    public init(_ value: Int) {
        first = value
        second = value
    }

    public init(_ first: Int, _ second: Int) {
        self.first = first
        self.second = second
    }

    public init(_ pair: (Int, Int)) {
        self.init(pair.0, pair.1)
    }

    public init(integerLiteral value: Int) {
        self.init(value)
    }

    public init(arrayLiteral elements: Int...) {
        require(elements.count == 2, "IntOrPair: expected [height, width], got \(elements)")
        self.init(elements[0], elements[1])
    }

    /// (height, width), as the tensor ops take it.
    public var pair: (Int, Int) { (first, second) }

    /// "(5, 3)", as PyTorch prints the tuple.
    public var description: String { "(\(first), \(second))" }
}
