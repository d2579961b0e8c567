// swift-tools-version:6.0
import PackageDescription

// Tools version 6.0: every target, the tests included, builds in Swift 6
// language mode, with complete concurrency checking: tensors, devices,
// modules, parameters, optimizers and the process group are Sendable, and
// every piece of shared mutable state is behind a lock the compiler knows
// about (README, "Tasks and threads").

let package = Package(
    name: "swift-nn",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NN", targets: ["NN"]),
        .library(name: "NNDistributed", targets: ["NNDistributed"]),
        .executable(name: "nntrain", targets: ["nntrain"]),
        .executable(name: "nnbench", targets: ["nnbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (the DocC catalog in Sources/NN/NN.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // System libraries: OpenBLAS (Debian's libopenblas-dev), linked; the
        // OpenCL headers only (opencl-headers): the loader, libOpenCL.so.1,
        // is opened at run time (Sources/NNOpenCL/OpenCLLibrary.swift), so
        // the binaries start on a machine without it.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "COpenCL", path: "Sources/COpenCL",
            providers: [.apt(["opencl-headers"])]),
        // zlib (Debian's zlib1g-dev): inflate for the gzip data files (MNIST),
        // deflate and CRC-32 for the PNG files the training diagnostics write.
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]),
        // The CPU backend's float32 transcendental loops, compiled for
        // baseline x86-64, x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512) and
        // chosen at run time (Swift has no per-function target attribute).
        .target(
            name: "CPUKernels",
            path: "Sources/CPUKernels"),
        // OpenCL C sources, embedded as byte arrays (see Kernels/README.md).
        .target(
            name: "Kernels",
            path: "Kernels",
            exclude: ["README.md"],
            resources: [
                .embedInCode("common.cl"),
                .embedInCode("gemm.cl"),
                .embedInCode("elementwise.cl"),
                .embedInCode("reduce.cl"),
                .embedInCode("softmax.cl"),
                .embedInCode("conv.cl"),
                .embedInCode("pool.cl"),
                .embedInCode("random.cl"),
                .embedInCode("optim.cl"),
                .embedInCode("layout.cl"),
                .embedInCode("rnn.cl"),
            ]),
        // The layers of DESIGN.md, one target each, so that each sees only
        // the ones below it: the Backend protocol and the types every layer
        // shares; the two backends, which know nothing of each other or of
        // tensors; tensors and autograd, which reach a device only through
        // the protocol; and NN, which re-exports all of them so that users
        // write `import NN` and get everything.
        .target(
            name: "NNBackend",
            path: "Sources/NNBackend"),
        .target(
            name: "NNCPU",
            dependencies: ["NNBackend", "CBLAS", "CPUKernels"],
            path: "Sources/NNCPU"),
        .target(
            name: "NNOpenCL",
            dependencies: ["NNBackend", "COpenCL", "Kernels"],
            path: "Sources/NNOpenCL"),
        .target(
            name: "NNTensor",
            dependencies: ["NNBackend", "NNCPU", "NNOpenCL"],
            path: "Sources/NNTensor"),
        .target(
            name: "NN",
            dependencies: ["NNTensor", "NNBackend", "NNCPU", "NNOpenCL", "CZlib"],
            path: "Sources/NN"),
        // Data-parallel training over MPI. Open MPI is opened at run time
        // (dlopen), so building needs nothing and only distributed runs
        // need Debian's openmpi-bin.
        .target(
            name: "NNDistributed",
            dependencies: ["NN"],
            path: "Sources/NNDistributed"),
        .executableTarget(
            name: "nntrain",
            dependencies: ["NN", "NNDistributed", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/nntrain"),
        // nnbench: the suites live in a library so a test can run a tiny one.
        .target(
            name: "NNBenchKit",
            dependencies: ["NN", "NNDistributed", "CBLAS"],
            path: "Benchmarks/NNBenchKit"),
        .executableTarget(
            name: "nnbench",
            dependencies: ["NNBenchKit", "NN", "NNDistributed", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/nnbench"),
        // Makes one programmer mistake per run, for the release-build
        // message tests (Tests/NNTests/Tensor/ReleaseMessageTests.swift).
        .executableTarget(
            name: "nn-mistakes",
            dependencies: ["NN"],
            path: "Tests/Mistakes"),
        // Saves a checkpoint in a loop until killed, for the killed-save test
        // (Tests/NNTests/Checkpoints/KilledSaveTests.swift).
        .executableTarget(
            name: "nn-save-loop",
            dependencies: ["NN"],
            path: "Tests/SaveLoop"),
        // The rank programs of the distributed tests, run by mpirun
        // (Tests/NNTests/Distributed/DistributedTests.swift).
        .executableTarget(
            name: "nn-distributed-check",
            dependencies: ["NN", "NNDistributed"],
            path: "Tests/DistributedCheck"),
        .testTarget(
            name: "NNTests",
            // The executables run as child processes (messages, options).
            dependencies: ["NN", "NNDistributed", "CPUKernels", "NNBenchKit", "nn-mistakes", "nntrain", "nnbench", "nn-save-loop",
                           "nn-distributed-check"],
            path: "Tests/NNTests",
            // Read through #filePath, not bundled.
            exclude: ["Fixtures"]),
        // A client's view (`import NN` only, nothing @testable): tensors,
        // models and optimizers across tasks, two trainings at once
        // (Tests/NNSwift6Tests).
        .testTarget(
            name: "NNSwift6Tests",
            dependencies: ["NN"],
            path: "Tests/NNSwift6Tests"),
    ]
)
