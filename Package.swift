// swift-tools-version: 6.0
import PackageDescription

// Renkei: a daemon that keeps a municipality's siloed systems in step.
//
// The module graph is the architecture:
//   CSQLite, CCurl, CCrypto   C system libraries (module map + shim.h only); CMalloc: glibc's malloc.h
//   CTLS                      libssl, for the push listener's TLS (RenkeiSystem's TLSContext only)
//   RenkeiCore                pure domain: JSON, events, schemas, projection, deltas (no C, no I/O)
//   RenkeiCrypto              the only importer of CCrypto (SHA-256, HMAC, Standard Webhooks)
//   RenkeiStore               the only importer of CSQLite: the state schema and its migrations; log, views,
//                             outbox and ledger, cursors, access log, at-rest keys; its own threads for reads
//   RenkeiHTTP                the only importer of CCurl (outbound HTTP client)
//   RenkeiSystem              Glibc: sockets, HTTP/1.1 server (TLS through CTLS), UNIX-socket HTTP client,
//                             sd_notify, signals, logging, services (Service, ServiceGroup) and clocks
//                             (ManualClock, WallClock)
//   RenkeiDaemon              wiring: config, ingest, projector, delivery, status routes, the daemon's
//                             services and reload (see ARCHITECTURE.md)
//   RenkeiControl             renkeictl: argument parsing, help, reply formatting, requests over the status
//                             socket (RenkeiCore's JSON, RenkeiSystem's UNIX-socket HTTP client)
//   renkeid, renkeictl        thin executables
//   renkei-bench              benchmarks behind ops/bench; renkei-receiver: demo/test webhook receiver
let package = Package(
    name: "Renkei",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "renkeid", targets: ["renkeid"]),
        .executable(name: "renkeictl", targets: ["renkeictl"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CTLS", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        // glibc's <malloc.h> (malloc_trim), part of libc; only RenkeiSystem's ProcessMemory uses it.
        .systemLibrary(name: "CMalloc"),

        // libm: Double rounding in the JSON number code (Foundation would pull it in too).
        .target(name: "RenkeiCore", linkerSettings: [.linkedLibrary("m")]),
        .target(name: "RenkeiCrypto", dependencies: ["CCrypto"]),
        .target(name: "RenkeiStore", dependencies: ["CSQLite", "RenkeiCore", "RenkeiCrypto"]),
        .target(name: "RenkeiHTTP", dependencies: ["CCurl"]),
        .target(name: "RenkeiSystem", dependencies: ["RenkeiCore", "CMalloc", "CTLS"]),
        .target(
            name: "RenkeiDaemon",
            dependencies: ["RenkeiCore", "RenkeiCrypto", "RenkeiStore", "RenkeiHTTP", "RenkeiSystem"]
        ),
        .executableTarget(name: "renkeid", dependencies: ["RenkeiCore", "RenkeiDaemon", "RenkeiSystem"]),
        .target(name: "RenkeiControl", dependencies: ["RenkeiCore", "RenkeiSystem"]),
        .executableTarget(name: "renkeictl", dependencies: ["RenkeiControl"]),
        // Benchmarks behind `ops/bench` (release builds): one subcommand per area.
        .executableTarget(
            name: "renkei-bench",
            dependencies: ["RenkeiCore", "RenkeiCrypto", "RenkeiStore", "RenkeiHTTP", "RenkeiSystem", "RenkeiDaemon"]
        ),
        // A small signature-checking webhook receiver for `ops/demo` and delivery tests.
        .executableTarget(name: "renkei-receiver", dependencies: ["RenkeiCore", "RenkeiCrypto", "RenkeiSystem"]),

        .testTarget(name: "RenkeiCoreTests", dependencies: ["RenkeiCore"]),
        .testTarget(name: "RenkeiCryptoTests", dependencies: ["RenkeiCrypto"]),
        .testTarget(name: "RenkeiStoreTests", dependencies: ["RenkeiStore", "RenkeiCore", "RenkeiCrypto"]),
        .testTarget(name: "RenkeiHTTPTests", dependencies: ["RenkeiHTTP", "RenkeiSystem"]),
        .testTarget(name: "RenkeiSystemTests", dependencies: ["RenkeiSystem", "RenkeiCore"]),
        .testTarget(name: "RenkeiControlTests", dependencies: ["RenkeiControl", "RenkeiCore", "RenkeiSystem"]),
        .testTarget(
            name: "RenkeiIntegrationTests",
            // RenkeiHTTP: the console tests' HTTPS client (issue 18).
            dependencies: ["RenkeiCore", "RenkeiCrypto", "RenkeiSystem", "RenkeiHTTP"]
        ),
        .testTarget(name: "RenkeiDaemonTests", dependencies: ["RenkeiDaemon", "RenkeiCore", "RenkeiCrypto", "RenkeiStore", "RenkeiSystem"]),
    ]
)

for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    // https://github.com/apple/swift-evolution/blob/main/proposals/0335-existential-any.md
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    // https://github.com/apple/swift-evolution/blob/main/proposals/0409-access-level-on-imports.md
    // With internal imports by default, no C type can leak into a public API.
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
