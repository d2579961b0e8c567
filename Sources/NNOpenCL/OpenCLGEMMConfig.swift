import Foundation
import NNBackend

/// One shape of GEMM kernel an OpenCL device can run (Kernels/gemm.cl):
/// the local-memory tiled kernel, or the vector kernel with ROWS x WIDTH of
/// C per work-item and k in host-side slices. The tuner picks one per
/// device and shape class; the parity suite runs every candidate.
public struct GEMMConfig: Hashable, Sendable, CustomStringConvertible {
    public enum Kernel: String, Sendable {
        /// 64x64 tiles of C through local memory, 16x16 work-items (GPUs).
        case tiled
        /// ROWS x WIDTH blocks in vector registers, no local memory (CPUs).
        case vector
    }

    public let kernel: Kernel
    /// vector: rows (1, 2, 4, 8) and columns (4, 8, 16, 32) of C per work-item.
    public let rows: Int
    public let width: Int
    /// vector: the k-range of one launch (later slices accumulate).
    public let kSlice: Int

    init(kernel: Kernel, rows: Int, width: Int, kSlice: Int) {
        self.kernel = kernel
        self.rows = rows
        self.width = width
        self.kSlice = kSlice
    }

    public static let tiled = GEMMConfig(kernel: .tiled, rows: 4, width: 4, kSlice: 0)

    public static func vector(rows: Int, width: Int, kSlice: Int) -> GEMMConfig {
        GEMMConfig(kernel: .vector, rows: rows, width: width, kSlice: kSlice)
    }

    /// The vector config of an untuned CPU device, and the fallback of a
    /// device that cannot run the tiled kernel's work-groups.
    static let defaultVector = GEMMConfig.vector(rows: 8, width: 16, kSlice: 256)

    /// What a device runs with tuning off: the tiled kernel on GPUs and
    /// accelerators, 8x16 vector blocks in k-slices of 256 on CPU devices.
    static func untuned(for device: OpenCLDeviceInfo) -> GEMMConfig {
        device.kind == .cpu ? defaultVector : .tiled
    }

    /// The -D options of the program this config runs (kSlice is the host's).
    var defines: String { kernel == .vector ? "-D ROWS=\(rows) -D WIDTH=\(width)" : "" }

    public var description: String {
        kernel == .tiled ? "tiled 64x64" : "vector \(rows)x\(width) k\(kSlice)"
    }

    /// Parses `description` (the tuning cache's notation).
    init?(parsing text: String) {
        if text == "tiled 64x64" { self = .tiled; return }
        let parts = text.split(separator: " ")
        guard parts.count == 3, parts[0] == "vector", parts[2].hasPrefix("k"),
              let slice = Int(parts[2].dropFirst()) else { return nil }
        let block = parts[1].split(separator: "x").compactMap { Int($0) }
        guard block.count == 2 else { return nil }
        let config = GEMMConfig.vector(rows: block[0], width: block[1], kSlice: slice)
        guard GEMMConfig.validRows.contains(config.rows), GEMMConfig.validWidths.contains(config.width), slice >= 16 else {
            return nil
        }
        self = config
    }

    static let validRows = [1, 2, 4, 8]
    static let validWidths = [4, 8, 16, 32]
}

/// How much searching `NN_TUNE` asks for.
public enum GEMMTuneMode: String, Sendable, CaseIterable {
    /// No search: `GEMMConfig.untuned` everywhere.
    case off
    /// The default: a few vector blocks and the tiled kernel, then two
    /// k-slices around the winner (a few seconds on first use).
    case quick
    /// Every block size and k-slice.
    case full

    /// NN_TUNE from the environment (default quick).
    static func fromEnvironment() throws -> GEMMTuneMode {
        guard let raw = ProcessInfo.processInfo.environment["NN_TUNE"] else { return .quick }
        guard let mode = GEMMTuneMode(rawValue: raw) else {
            throw OpenCLError.unsupported(device: "any", what: "NN_TUNE=\(raw) (use off, quick or full)")
        }
        return mode
    }
}

/// The classes of GEMM shapes tuned apart: a kernel that is best for square
/// products loses on the thin ones that convolution and small batches make.
public enum GEMMShapeClass: String, CaseIterable, Sendable {
    /// Everything not below.
    case square
    /// m <= 64: convolution forward and backward-filter (m = output
    /// channels), a Linear layer's weight gradient over a small batch.
    case fewRows
    /// n <= 64: classifier heads, products with a small batch on the right.
    case fewColumns
    /// k >= 4 max(m, n): long reductions (backward-filter over many pixels).
    case longK

    public static func of(m: Int, n: Int, k: Int) -> GEMMShapeClass {
        if k >= 4 * max(m, n) { return .longK }
        if m <= 64 { return .fewRows }
        if n <= 64 { return .fewColumns }
        return .square
    }

    /// The products timed for this class, sized to take milliseconds on a
    /// CPU device: (m, n, k).
    var probes: [(m: Int, n: Int, k: Int)] {
        switch self {
        case .square: return [(512, 512, 512), (1024, 128, 1024)]
        case .fewRows: return [(6, 3136, 25), (16, 1024, 150), (35, 4096, 1024)]
        case .fewColumns: return [(1024, 10, 512), (2560, 64, 1024)]
        case .longK: return [(64, 64, 4096), (16, 150, 3200)]
        }
    }
}

extension GEMMConfig {
    /// The configs the tuner chooses among in `mode`, on any device: it
    /// times them rather than guessing by device type. The tiled kernel is
    /// always one; `off` lists the quick set, so the parity suite checks
    /// what a tuning run could pick.
    static func candidates(mode: GEMMTuneMode) -> [GEMMConfig] {
        let blocks: [(Int, Int)] = mode == .full
            ? validRows.flatMap { r in validWidths.map { (r, $0) } }
            : [(2, 16), (4, 8), (4, 16), (4, 32), (8, 8), (8, 16), (8, 32)]
        let slices = mode == .full ? [64, 128, 256, 512, 1024] : [128, 256, 512]
        return [.tiled] + blocks.flatMap { r, w in slices.map { .vector(rows: r, width: w, kSlice: $0) } }
    }
}

extension GEMMConfig {
    /// This config fitted to a product with `n` columns. A vector block
    /// wider than n runs the kernel's scalar loop in every work-item (a
    /// tuned 4x32 block on conv1's filter gradient, n = 25, took 5 ms where
    /// 4x16 takes under 1); the widest candidate of `mode` no wider than n,
    /// with the same k-slice and the rows nearest below, runs the vector
    /// path instead. Candidates only, so the parity suite has run it.
    func fitted(n: Int, mode: GEMMTuneMode) -> GEMMConfig {
        guard kernel == .vector, width > n else { return self }
        let fits = GEMMConfig.candidates(mode: mode).filter { $0.kernel == .vector && $0.width <= n && $0.kSlice == kSlice }
        func preference(_ c: GEMMConfig) -> (Int, Int) { (c.width, c.rows <= rows ? c.rows : -c.rows) }
        return fits.max { preference($0) < preference($1) } ?? self
    }
}

extension GEMMConfig {
    /// The configs the parity suite and `nnbench check` run on `device`:
    /// one per distinct program (kernel and block) among the candidates of
    /// `mode`, at the smallest k-slice (the one that slices most), plus the
    /// untuned config. The k-slice is a host-side loop bound, so the other
    /// slices run the same kernel code.
    public static func parityVariants(for device: OpenCLDeviceInfo, mode: GEMMTuneMode) -> [GEMMConfig] {
        var seen = Set<String>(), variants: [GEMMConfig] = []
        for config in candidates(mode: mode).sorted(by: { $0.kSlice < $1.kSlice }) where seen.insert(config.defines + config.kernel.rawValue).inserted {
            variants.append(config)
        }
        let untuned = untuned(for: device)
        if !variants.contains(untuned) { variants.append(untuned) }
        return variants
    }
}
