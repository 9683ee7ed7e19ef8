@testable import BrokerServer
import Synchronization
import Testing

@Suite struct RateLimitedLogTests {
    @Test func boundsLinesPerSecondAndCountsTheRest() {
        let lines = Mutex<[String]>([])
        let log = RateLimitedLog(perSecond: 2) { l in lines.withLock { $0.append(l) } }
        for i in 0..<5 { log("fail \(i)", nowMillis: 10_000 + UInt64(i)) }
        #expect(lines.withLock { $0 } == ["fail 0", "fail 1"])
        log("fail 5", nowMillis: 11_001)
        #expect(lines.withLock { $0 }.last == "fail 5 (3 similar lines suppressed)")
        log("fail 6", nowMillis: 11_002)
        #expect(lines.withLock { $0 }.last == "fail 6")
    }
}
