import NN

/// A digit-like data set generated in code, so `nntrain mnist-mlp` runs
/// anywhere without files: 28x28 grey images of the ten digits drawn as
/// seven-segment strokes with a random shift, scale, slant, stroke width and
/// pixel noise, labels 0-9. Deterministic for a seed (Philox, like the rest
/// of the library's randomness).
enum SyntheticDigits {
    /// Segments a..g of a seven-segment display, as line segments in a unit
    /// box (x right, y down): top, upper right, lower right, bottom, lower
    /// left, upper left, middle.
    private static let segments: [((Double, Double), (Double, Double))] = [
        ((0, 0), (1, 0)), ((1, 0), (1, 0.5)), ((1, 0.5), (1, 1)), ((0, 1), (1, 1)),
        ((0, 0.5), (0, 1)), ((0, 0), (0, 0.5)), ((0, 0.5), (1, 0.5)),
    ]

    /// Which segments each digit lights.
    private static let digits: [[Int]] = [
        [0, 1, 2, 3, 4, 5], [1, 2], [0, 1, 6, 4, 3], [0, 1, 6, 2, 3], [5, 6, 1, 2],
        [0, 5, 6, 2, 3], [0, 5, 4, 3, 2, 6], [0, 1, 2], [0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 5, 6],
    ]

    /// `count` images as [count * 784] pixels in [0, 1], and their labels.
    static func make(count: Int, seed: UInt64) -> (pixels: [Float], labels: [Int32]) {
        var pixels = [Float](repeating: 0, count: count * 784)
        var labels = [Int32](repeating: 0, count: count)
        for n in 0..<count {
            // Eight uniforms per image from one Philox block pair.
            let b0 = Philox.block(UInt64(2 * n), seed: seed, stream: 0xD161)
            let b1 = Philox.block(UInt64(2 * n + 1), seed: seed, stream: 0xD161)
            let u = [b0.0, b0.1, b0.2, b0.3, b1.0, b1.1, b1.2, b1.3].map { Double(Philox.unitFloat($0)) }
            let digit = n % 10
            labels[n] = Int32(digit)
            let width = 9 + 5 * u[0], height = 15 + 5 * u[1]
            let left = 14 - width / 2 + (u[2] - 0.5) * 6, top = 14 - height / 2 + (u[3] - 0.5) * 6
            let slant = (u[4] - 0.5) * 0.5, thickness = 1.2 + 1.0 * u[5]
            for s in digits[digit] {
                let ((x0, y0), (x1, y1)) = segments[s]
                // Map the unit box to the image, slanting x with height.
                func point(_ x: Double, _ y: Double) -> (Double, Double) {
                    (left + x * width + slant * (0.5 - y) * height, top + y * height)
                }
                let (ax, ay) = point(x0, y0), (bx, by) = point(x1, y1)
                drawSegment(&pixels, image: n, from: (ax, ay), to: (bx, by), thickness: thickness)
            }
            // Speckle noise from a third block per pixel row.
            for row in 0..<28 {
                let noise = Philox.block(UInt64(row), seed: seed &+ UInt64(n), stream: 0xD162)
                let words = [noise.0, noise.1, noise.2, noise.3]
                for k in 0..<4 {
                    let column = Int(words[k] % 28)
                    let i = n * 784 + row * 28 + column
                    pixels[i] = min(1, pixels[i] + 0.3 * Philox.unitFloat(words[(k + 1) % 4]))
                }
            }
        }
        return (pixels, labels)
    }

    /// Anti-aliased thick line: intensity falls off with distance to the
    /// segment.
    private static func drawSegment(_ pixels: inout [Float], image: Int, from a: (Double, Double), to b: (Double, Double),
                                    thickness: Double) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1)
        let length2 = max(dx * dx + dy * dy, 1e-9)
        let x0 = max(0, Int(min(a.0, b.0) - thickness - 1)), x1 = min(27, Int(max(a.0, b.0) + thickness + 1))
        let y0 = max(0, Int(min(a.1, b.1) - thickness - 1)), y1 = min(27, Int(max(a.1, b.1) + thickness + 1))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let (px, py) = (Double(x) + 0.5, Double(y) + 0.5)
                let t = max(0, min(1, ((px - a.0) * dx + (py - a.1) * dy) / length2))
                let (cx, cy) = (a.0 + t * dx - px, a.1 + t * dy - py)
                let distance = (cx * cx + cy * cy).squareRoot()
                let value = Float(max(0, min(1, thickness - distance + 0.5)))
                let i = image * 784 + y * 28 + x
                pixels[i] = max(pixels[i], value)
            }
        }
    }
}
