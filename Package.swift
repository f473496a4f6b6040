// swift-tools-version: 6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Syscall mocking (Internal/System/Mocking.swift) exists in debug builds only, as in swift-system.
    .define("ENABLE_MOCKING", .when(configuration: .debug)),
]

let package = Package(
    name: "swift-multiprocessing",
    products: [
        .library(name: "Multiprocessing", targets: ["Multiprocessing"]),
        // Empty unless the MPI trait is on: `swift build --traits MPI` (needs Open MPI, pkg-config `ompi`).
        .library(name: "MultiprocessingMPI", targets: ["MultiprocessingMPI"]),
        .executable(name: "mpdemo", targets: ["mpdemo"]),
    ],
    traits: [
        .trait(
            name: "MPI",
            description: "MultiprocessingMPI on Open MPI: MPICommunicator and MPIPool, mpdemo's MPI demos and their tests."
        )
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // HMAC-SHA256 for the listener's challenge–response (constant-time verification included).
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "_CMultiprocessingShims",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "Multiprocessing",
            dependencies: [
                "_CMultiprocessingShims",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: [
                "Codec/README.md", "Worker/README.md", "Internal/EventLoop/README.md", "Synchronization/README.md", "Queue/README.md", "Pool/README.md",
            ],
            swiftSettings: strictSettings
        ),
        // Never probed unless a target that the enabled traits use depends on it, so the default
        // build needs no MPI on the machine.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .target(
            name: "MultiprocessingMPI",
            dependencies: [
                "Multiprocessing",
                .target(name: "CMPI", condition: .when(traits: ["MPI"])),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "mpdemo",
            dependencies: [
                "Multiprocessing",
                "MultiprocessingMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "MultiprocessingTestSupport",
            dependencies: [
                "Multiprocessing", "_CMultiprocessingShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/MultiprocessingTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MultiprocessingTests",
            dependencies: ["Multiprocessing", "MultiprocessingTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MultiprocessingMPITests",
            dependencies: ["Multiprocessing", "MultiprocessingMPI", "MultiprocessingTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MPDemoTests",
            dependencies: ["mpdemo", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MultiprocessingIntegrationTests",
            dependencies: [
                "Multiprocessing", "MultiprocessingTestSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
