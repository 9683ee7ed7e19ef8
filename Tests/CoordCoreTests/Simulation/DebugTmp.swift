@testable import CoordCore
import Protocol
import Testing

@Test func debugTmp() {
    let sim = Simulator(servers: 3, seed: 5)
    _ = sim.run(upToMs: 2000) { sim.leader != nil }
    let old = sim.leader!
    sim.crash(old)
    sim.run(forMs: 1500)
    print(sim.trace.suffix(40).joined(separator: "\n"))
    for id in sim.ids { print(id, sim.replicas[id]!.peer.map { "\($0.currentStatus) \(String(describing: $0.election))" } ?? "down") }
}
