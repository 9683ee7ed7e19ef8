import CoordCore
import Protocol
import Testing

@Test func debugTmp() {
    if let f = RandomizedSimulationTests.runSeed(18, steps: 3000) { print(f) }
}
