// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "patron",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "patrond", targets: ["patrond"]),
        .executable(name: "patronctl", targets: ["patronctl"]),
        .executable(name: "patron-bench", targets: ["patron-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Tests only: an independent reader for the CSV that exports write.
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
    ],
    targets: [
        .systemLibrary(name: "CXlsxWriter", pkgConfig: "xlsxwriter", providers: [.apt(["libxlsxwriter-dev"])]),
        .systemLibrary(name: "CHaru", providers: [.apt(["libhpdf-dev"])]),
        // PostgreSQL's client library, for the PostgreSQL storage backend (PatronStorage only).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // rabbitmq-c 0.11 as Debian ships it; shim.h holds the wrappers Swift cannot do without.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // Small C helpers with one stated reason each (sd_notify's datagram, eventfd wake-ups,
        // HMAC-SHA256 from the OpenSSL that rabbitmq-c already links).
        .target(name: "CPatronShims", linkerSettings: [.linkedLibrary("crypto")]),
        // libphonenumber's C++ API behind one C function (Debian libphonenumber-dev).
        .target(
            name: "CPhoneNumbers",
            linkerSettings: [.linkedLibrary("phonenumber"), .linkedLibrary("stdc++")]
        ),
        // Phone normalization for the domain's PhoneNormalizer: fast path for E.164, cache.
        .target(name: "PatronPhone", dependencies: ["CPhoneNumbers", "PatronDomain"]),
        // The only module that imports CRabbitMQ.
        .target(
            name: "PatronAMQP",
            dependencies: [
                "CRabbitMQ", "CPatronShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Pure domain: envelope rules, events, timestamps. No I/O, no GRDB.
        .target(name: "PatronDomain"),
        // A seeded generator, for the benchmark's event mix and the property tests.
        .target(name: "SeededRandom"),
        // Generated Customer Center searches, for the search benchmark and the equivalence test.
        .target(name: "SearchWorkload", dependencies: ["PatronDomain", "SeededRandom"]),
        .target(
            name: "PatronStorage",
            dependencies: [
                "PatronDomain", "CPatronShims",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "PatronService",
            dependencies: [
                "PatronAMQP", "PatronDomain", "PatronStorage", "PatronPhone", "CPatronShims", "CXlsxWriter", "CHaru",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .executableTarget(
            name: "patrond",
            dependencies: [
                "PatronService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "patronctl",
            dependencies: [
                "PatronService", "PatronAMQP", "PatronStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "patron-bench",
            dependencies: [
                "PatronService", "PatronAMQP", "PatronDomain", "PatronStorage", "PatronPhone", "SeededRandom", "SearchWorkload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(
            name: "PatronDomainTests",
            dependencies: ["PatronDomain", "PatronPhone", "SeededRandom", .product(name: "CSV", package: "CSV.swift")]
        ),
        .testTarget(
            name: "PatronStorageTests",
            dependencies: [
                "PatronStorage", "PatronDomain", "PatronPhone", "PatronService", "SeededRandom", "SearchWorkload",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "PatronAMQPTests", dependencies: ["PatronAMQP"]),
        .testTarget(
            name: "PatronServiceTests",
            dependencies: [
                "PatronService", "PatronAMQP", "PatronDomain", "PatronPhone", "SeededRandom",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PatronIntegrationTests",
            dependencies: [
                "PatronService", "PatronAMQP", "PatronDomain", "PatronStorage", "CPatronShims",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
