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
        .executable(name: "mpdemo", targets: ["mpdemo"]),
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
        .executableTarget(
            name: "mpdemo",
            dependencies: [
                "Multiprocessing",
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
