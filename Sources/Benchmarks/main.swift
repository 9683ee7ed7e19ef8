// Benchmark suites: `swift run -c release Benchmarks <suite> [args]`.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first ?? "" {
case "storage": StorageBench.run(Array(arguments.dropFirst()))
default: print("usage: Benchmarks storage [MiB per case]")
}
