import CoordCore
import Protocol
import Testing

@Test func debugTmp() {
    var st = [Int](repeating: 0, count: 7)
    let f = RandomizedSimulationTests.runSeed(145, steps: 3000, stats: &st)
    print("FP \(st) \(f ?? "ok")")
}
