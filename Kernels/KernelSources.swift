/// The OpenCL C sources in this folder, embedded in the binary at build time
/// (SwiftPM's `embedInCode` resources), so a program finds its kernels from
/// any working directory.
public enum KernelSources {
    /// Prepended to every program.
    public static let common = text(PackageResources.common_cl)
    public static let gemm = text(PackageResources.gemm_cl)
    public static let elementwise = text(PackageResources.elementwise_cl)
    public static let reduce = text(PackageResources.reduce_cl)
    public static let softmax = text(PackageResources.softmax_cl)
    public static let conv = text(PackageResources.conv_cl)
    public static let pool = text(PackageResources.pool_cl)
    public static let random = text(PackageResources.random_cl)
    public static let optim = text(PackageResources.optim_cl)
    public static let layout = text(PackageResources.layout_cl)
    public static let rnn = text(PackageResources.rnn_cl)

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
