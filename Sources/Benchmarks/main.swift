// Benchmark suites: `swift run -c release Benchmarks <suite> [args]`.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first ?? "" {
case "storage": StorageBench.run(Array(arguments.dropFirst()))
case "coord": CoordBench.run(Array(arguments.dropFirst()))
case "coord-standalone": StandaloneBench.run(Array(arguments.dropFirst()))
case "produce-path": ProducePathBench.run(Array(arguments.dropFirst()))
case "broker": BrokerBench.run(Array(arguments.dropFirst()))
case "replication": ReplicationBench.run(Array(arguments.dropFirst()))
case "client": ClientBench.run(Array(arguments.dropFirst()))
case "codec": CodecBench.run(Array(arguments.dropFirst()))
case "observability": ObservabilityBench.run(Array(arguments.dropFirst()))
case "coord-scale": CoordScaleBench.run(Array(arguments.dropFirst()))
case "coord-observers": ObserverBench.run(Array(arguments.dropFirst()))
case "cluster-scale": ClusterScaleBench.run(Array(arguments.dropFirst()))
default:
    print("""
    usage: Benchmarks <suite> [args]
      storage [MiB per case]            segment-log append/read vs raw write()/sendfile
      coord [ops per phase] [clients]   coordd vs Apache ZooKeeper 3.8, 3-server ensembles
      coord-standalone [ops per phase] [clients] [rounds]
                                        one standalone coordd: ops/s per phase, txns per fsync
      produce-path [MiB per case] [rounds]
                                        Produce frames → frame decoder → decode → log append, in process
      broker [records per case] [rounds]  brokerd vs Tansu via librdkafka, with loopback/disk limits
      replication [records] [rounds] [min.insync.replicas]
                                        kcat (C client) RF 1 acks=1 vs RF 3 acks=all: rec/s and broker CPU per record
      client [--bootstrap H:P] [--records N] [--size B] [--partitions P] [--rounds R] [--idempotence]
                                        Swift producer vs kcat, alternating rounds (starts coordd + brokerd)
      codec [iterations]                Kafka codecs on Produce, Metadata and Fetch
      observability [ops] [rounds] [rec]coordd writes and brokerd produce with the admin server on vs off
      coord-scale [znodes] [children]   coordd vs ZooKeeper standalone as the tree grows: memory, wide parents, restart, deletes
      coord-observers [seconds] [readers] [writers] [rounds]
                                        reads under a write load: 5 voters vs 3 voters + 2 observers, coordd and ZooKeeper
      cluster-scale [partitions] [replication]
                                        3 brokers with 10,000 partitions: topic creation, controller kill -9, controlled shutdown
    """)
}
