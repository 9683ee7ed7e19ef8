// swift-tools-version:6.0
import PackageDescription

// One module per concern. The *Core modules decide and do no I/O; the *Server modules are the
// thin runtimes (sockets, timers, disk); coordd/brokerd only parse configuration and start them.
let package = Package(
    name: "CoordKafka",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "coordd", targets: ["coordd"]),
        .executable(name: "brokerd", targets: ["brokerd"]),
        .executable(name: "faultproxy", targets: ["faultproxy"]),
        .executable(name: "console", targets: ["console"]),
        .executable(name: "coordctl", targets: ["coordctl"]),
    ],
    targets: [
        // Wire formats: byte reader/writer, Jute (ZooKeeper) and Kafka codecs.
        .target(name: "Protocol", dependencies: ["CZlib", "CCRC32C"], exclude: ["Kafka/Schema"]),
        // CRC-32C with the SSE4.2 crc32 instruction, which Swift cannot emit (record batches, coordd's log).
        .target(name: "CCRC32C"),
        // Disk formats: coordd's transaction log and snapshots, Kafka segment logs.
        .target(name: "Storage", dependencies: ["Protocol", "CLinux"]),
        // Non-blocking TCP (and TLS through OpenSSL) on epoll, shared by both daemons and the clients.
        .target(name: "Transport", dependencies: ["CLinux", "COpenSSL"]),
        // epoll/eventfd/sendfile/fallocate headers from glibc, which Swift's Glibc module leaves out.
        .systemLibrary(name: "CLinux"),
        // Child processes through posix_spawn (Foundation's Process.run crashes now and then on Linux).
        .target(name: "Spawn", dependencies: ["CLinux"]),
        .systemLibrary(name: "CZlib"),  // zlib for gzip record batches (zlib1g-dev)
        .systemLibrary(name: "CSQLite"),  // SQLite 3 for the outbox sample (libsqlite3-dev)
        // The transactional outbox (seed note 003): orders and outbox rows in one SQLite transaction,
        // a relay publishing them with the transactional producer, an idempotent read_committed applier.
        .target(name: "Outbox", dependencies: ["CSQLite", "KafkaClient", "Protocol"]),
        // OpenSSL 3 (libssl-dev): digests, HMAC, PBKDF2 and TLS.
        .systemLibrary(name: "COpenSSL"),
        // Hashes, HMAC, PBKDF2 and random bytes over OpenSSL (SCRAM, peer authentication).
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        // I/O-free SASL: JAAS config, PLAIN and SCRAM exchanges (server and client), Kafka's handshake sequence.
        .target(name: "Sasl", dependencies: ["Crypto"]),
        // I/O-free coordination: data tree, sessions, watches, election, atomic broadcast.
        .target(name: "CoordCore", dependencies: ["Protocol", "Crypto"]),
        // coordd runtime: config, client and peer networking, persistence.
        .target(name: "CoordServer", dependencies: ["CoordCore", "Protocol", "Storage", "Transport", "Observability", "Crypto", "Sasl"]),
        // A ZooKeeper client in Swift (brokerd uses it to talk to coordd).
        .target(name: "CoordClient", dependencies: ["Protocol", "Transport", "Sasl"]),
        // I/O-free broker logic: controller, replication, group coordinator.
        .target(name: "BrokerCore", dependencies: ["Protocol"]),
        // brokerd runtime: Kafka listener, request handlers, replica fetchers, coordd session.
        .target(name: "BrokerServer", dependencies: ["BrokerCore", "Protocol", "Storage", "Transport", "CoordClient", "Observability", "Sasl"]),
        // A Kafka client in Swift: producer, consumer, admin.
        .target(name: "KafkaClient", dependencies: ["Protocol", "Transport", "Sasl", "Crypto"]),
        // A TCP proxy that drops, blackholes, delays, throttles or resets links on command (fault tests, the lab).
        .target(name: "FaultProxy", dependencies: ["Transport"]),
        // Admin plane of both daemons: HTTP/1.1 + SSE on Transport, Prometheus text, the coordination timeline.
        .target(name: "Observability", dependencies: ["Transport", "Crypto", "Spawn"]),

        // The operator console: an HTTP server with a JSON API over the project's clients and an embedded single-page app.
        .target(name: "Console", dependencies: ["KafkaClient", "CoordClient", "Observability", "Protocol", "Transport", "Crypto"],
                resources: [.embedInCode("Web")]),

        // Kafka codecs are generated from Sources/Protocol/Kafka/Schema: `swift run KafkaCodegen`.
        .target(name: "KafkaCodegenLib"),
        .executableTarget(name: "KafkaCodegen", dependencies: ["KafkaCodegenLib"]),
        .executableTarget(name: "coordd", dependencies: ["CoordServer"]),
        .executableTarget(name: "brokerd", dependencies: ["BrokerServer"]),
        .executableTarget(name: "coordctl", dependencies: ["CoordCore", "Storage", "Protocol"]),
        .executableTarget(name: "kafkactl", dependencies: ["KafkaClient", "Observability"]),
        .executableTarget(name: "faultproxy", dependencies: ["FaultProxy", "Transport"]),
        .executableTarget(name: "console", dependencies: ["Console"]),
        .executableTarget(name: "outbox-sample", dependencies: ["Outbox", "KafkaClient"]),
        // Every decoder an untrusted peer reaches, as fuzz targets; `Fuzz` drives them (deploy/fuzz.sh).
        .target(name: "FuzzTargets", dependencies: ["Protocol", "Observability", "Sasl"]),
        .executableTarget(name: "Fuzz", dependencies: ["FuzzTargets", "CFuzzMain"]),
        // Fuzz's weak C main, which libFuzzer's own main replaces in a fuzzing build.
        .target(name: "CFuzzMain"),
        // Benchmarks are programs, not tests: `swift run -c release Benchmarks <suite>`.
        .executableTarget(name: "Benchmarks", dependencies: ["Protocol", "Storage", "Transport", "CoordClient", "KafkaClient", "Spawn", "Observability"], exclude: ["scripts"]),

        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        // Replays the fuzz corpora kept in Tests/FuzzCorpus through every target.
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets"], exclude: ["Corpus"]),
        .testTarget(name: "SaslTests", dependencies: ["Sasl", "Crypto"]),
        .testTarget(name: "ProtocolTests", dependencies: ["Protocol"]),
        .testTarget(name: "KafkaCodegenTests", dependencies: ["KafkaCodegenLib"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Protocol"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "Protocol", "Spawn"]),
        .testTarget(name: "SpawnTests", dependencies: ["Spawn"]),
        .testTarget(name: "CoordCoreTests", dependencies: ["CoordCore", "Protocol"]),
        .testTarget(name: "BrokerCoreTests", dependencies: ["BrokerCore", "Protocol", "Storage"]),
        .testTarget(name: "BrokerServerTests", dependencies: ["BrokerServer"]),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient"]),
        .testTarget(name: "OutboxTests", dependencies: ["Outbox", "KafkaClient", "Protocol"]),
        .testTarget(name: "FaultProxyTests", dependencies: ["FaultProxy", "Transport"]),
        .testTarget(name: "ObservabilityTests", dependencies: ["Observability", "Transport", "Spawn"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Crypto"]),
        // Integration, fault and compatibility tests: start real coordd/brokerd processes.
        .testTarget(name: "CoordServerUnitTests", dependencies: ["CoordServer", "Protocol"]),
        .testTarget(name: "IntegrationTests", dependencies: ["CoordClient", "CoordCore", "Storage", "KafkaClient", "Protocol", "Transport", "FaultProxy", "Observability", "Spawn", "Sasl", "Outbox"], exclude: ["compat"]),
    ]
)
