import Protocol
import Testing
@testable import KafkaClient

struct BatchBuilderTests {
    @Test func roundTripsThroughTheRecordBatchCodec() throws {
        var b = BatchBuilder()
        b.append(timestamp: 1000, key: Array("k1".utf8), value: Array("v1".utf8))
        b.append(timestamp: 1005, key: nil, value: Array("v2".utf8), headers: [RecordHeader(key: "h", value: [1, 2])])
        b.append(timestamp: 999, key: [], value: nil)
        let bytes = try b.build(producerId: 7, producerEpoch: 1, baseSequence: 42)
        let (h, recs) = try RecordBatch.records(of: bytes)
        #expect(h.producerId == 7 && h.producerEpoch == 1 && h.baseSequence == 42)
        #expect(h.recordsCount == 3 && h.lastOffsetDelta == 2)
        #expect(h.baseTimestamp == 1000 && h.maxTimestamp == 1005)
        #expect(recs.map(\.offset) == [0, 1, 2])
        #expect(recs[0].key == Array("k1".utf8) && recs[1].key == nil && recs[2].value == nil)
        #expect(recs[1].headers == [RecordHeader(key: "h", value: [1, 2])])
        #expect(recs[2].timestamp == 999)
    }

    @Test func gzipBatchesDecode() throws {
        var b = BatchBuilder()
        for i in 0..<50 { b.append(timestamp: 1, key: nil, value: Array("value-\(i)-xxxxxxxxxxxxxxxx".utf8)) }
        let bytes = try b.build(compression: .gzip)
        #expect(bytes.count < b.estimatedBatchSize)
        let (h, recs) = try RecordBatch.records(of: bytes)
        #expect(h.compression == .gzip)
        #expect(recs.count == 50 && recs[49].value == Array("value-49-xxxxxxxxxxxxxxxx".utf8))
    }

    @Test func sizeEstimateMatchesEncoding() {
        var b = BatchBuilder()
        let k: [UInt8] = [1, 2, 3], v = [UInt8](repeating: 9, count: 300)
        let predicted = BatchBuilder.encodedSize(offsetDelta: 0, timestampDelta: 0, key: k, value: v, headers: [RecordHeader(key: "x", value: nil)])
        #expect(b.append(timestamp: 5, key: k, value: v, headers: [RecordHeader(key: "x", value: nil)]) == predicted)
    }
}

struct AccumulatorTests {
    let tp = TopicPartition("t", 0)

    func value(_ n: Int) -> [UInt8] { [UInt8](repeating: 1, count: n) }

    @Test func recordsShareABatchUntilBatchSize() {
        var acc = RecordAccumulator(config: .init(batchSize: 1000, lingerMs: 5, bufferMemory: 100_000))
        let r1 = acc.append(tp, timestamp: 0, key: nil, value: value(300), callback: nil, nowMs: 0)
        let r2 = acc.append(tp, timestamp: 0, key: nil, value: value(300), callback: nil, nowMs: 0)
        #expect(r1.newBatch && !r2.newBatch && !r2.batchFull)
        #expect(acc.queuedBatches(tp) == 1)
        let r3 = acc.append(tp, timestamp: 0, key: nil, value: value(400), callback: nil, nowMs: 0)
        #expect(r3.newBatch && r3.batchFull)
        #expect(acc.queuedBatches(tp) == 2)
        #expect(acc.queuedRecords == 3)
    }

    @Test func lingerDecidesReadiness() {
        var acc = RecordAccumulator(config: .init(batchSize: 16384, lingerMs: 5, bufferMemory: 100_000))
        acc.append(tp, timestamp: 0, key: nil, value: value(10), callback: nil, nowMs: 100)
        #expect(acc.ready(nowMs: 104).ready.isEmpty)
        #expect(acc.ready(nowMs: 104).nextReadyMs == 105)
        #expect(acc.drainFirst(tp, nowMs: 104) == nil)
        #expect(acc.ready(nowMs: 105).ready == [tp])
        let b = acc.drainFirst(tp, nowMs: 105)
        #expect(b?.recordCount == 1)
        #expect(acc.isEmpty && acc.queuedRecords == 0)
    }

    @Test func flushMakesEverythingReady() {
        var acc = RecordAccumulator(config: .init(batchSize: 16384, lingerMs: 1000, bufferMemory: 100_000))
        acc.append(tp, timestamp: 0, key: nil, value: value(10), callback: nil, nowMs: 0)
        #expect(acc.ready(nowMs: 1).ready.isEmpty)
        acc.flushing = true
        #expect(acc.ready(nowMs: 1).ready == [tp])
    }

    @Test func bufferMemoryIsReservedAndReleased() {
        var acc = RecordAccumulator(config: .init(batchSize: 16384, lingerMs: 0, bufferMemory: 1000))
        let r = acc.append(tp, timestamp: 0, key: nil, value: value(500), callback: nil, nowMs: 0)
        #expect(acc.usedMemory == r.bytes)
        #expect(!acc.hasRoom(for: 1000 - r.bytes + 1))
        #expect(acc.hasRoom(for: 1000 - r.bytes))
        let b = acc.drainFirst(tp, nowMs: 0)!
        #expect(acc.usedMemory == r.bytes)  // held until the batch completes
        acc.release(b)
        #expect(acc.usedMemory == 0)
    }

    @Test func retriesGoFirstInSequenceOrderAndWaitForBackoff() {
        var acc = RecordAccumulator(config: .init(batchSize: 100, lingerMs: 0, bufferMemory: 100_000))
        for _ in 0..<3 { acc.append(tp, timestamp: 0, key: nil, value: value(80), callback: nil, nowMs: 0) }
        var a = acc.drainFirst(tp, nowMs: 0)!
        var b = acc.drainFirst(tp, nowMs: 0)!
        a.baseSequence = 0
        b.baseSequence = 1
        acc.reenqueue(b, retryAtMs: 50)
        acc.reenqueue(a, retryAtMs: 50)
        #expect(acc.drainFirst(tp, nowMs: 49) == nil)
        #expect(acc.ready(nowMs: 0).nextReadyMs == 50)
        let first = acc.drainFirst(tp, nowMs: 50)
        #expect(first?.baseSequence == 0 && first?.attempts == 1)
        #expect(acc.drainFirst(tp, nowMs: 50)?.baseSequence == 1)
        #expect(acc.drainFirst(tp, nowMs: 50)?.attempts == 0)
    }

    @Test func oldBatchesExpire() {
        var acc = RecordAccumulator(config: .init(batchSize: 10, lingerMs: 100, bufferMemory: 100_000))
        acc.append(tp, timestamp: 0, key: nil, value: value(20), callback: nil, nowMs: 0)
        acc.append(TopicPartition("t", 1), timestamp: 0, key: nil, value: value(20), callback: nil, nowMs: 500)
        let gone = acc.expire(createdBeforeMs: 100)
        #expect(gone.map(\.tp) == [tp])
        #expect(acc.queuedRecords == 1)
    }

    @Test func callbacksTravelWithTheirBatch() {
        var acc = RecordAccumulator(config: .init(batchSize: 16384, lingerMs: 0, bufferMemory: 100_000))
        acc.append(tp, timestamp: 7, key: nil, value: value(1), callback: { _ in }, nowMs: 0)
        acc.append(tp, timestamp: 8, key: nil, value: value(1), callback: nil, nowMs: 0)
        let b = acc.drainFirst(tp, nowMs: 0)!
        #expect(b.callbacks.count == 2 && b.callbacks[0] != nil && b.callbacks[1] == nil)
        #expect(b.timestamps == [7, 8])
    }
}

struct SequenceTests {
    let tp = TopicPartition("t", 3)

    @Test func sequencesAdvanceByRecordCount() {
        var s = IdempotenceState()
        s.reset(producerId: 9, epoch: 0)
        #expect(s.assign(tp, count: 5) == 0)
        #expect(s.assign(tp, count: 3) == 5)
        #expect(s.assign(TopicPartition("t", 4), count: 1) == 0)
        #expect(s.peekSequence(tp) == 8)
    }

    @Test func sequencesWrapAtInt32Max() {
        var s = IdempotenceState()
        s.reset(producerId: 1, epoch: 0)
        _ = s.assign(tp, count: Int(Int32.max) - 1)
        #expect(s.peekSequence(tp) == Int32.max - 1)
        #expect(s.assign(tp, count: 3) == Int32.max - 1)
        #expect(s.peekSequence(tp) == 1)
    }

    @Test func oldestInFlightIsTracked() {
        var s = IdempotenceState()
        s.reset(producerId: 1, epoch: 0)
        let a = s.assign(tp, count: 2), b = s.assign(tp, count: 2)
        s.sent(tp, base: a)
        s.sent(tp, base: b)
        #expect(s.isOldestInFlight(tp, base: a) && !s.isOldestInFlight(tp, base: b))
        s.answered(tp, base: a)
        #expect(s.isOldestInFlight(tp, base: b) && s.inFlightCount(tp) == 1)
        s.reset(producerId: 2, epoch: 0)
        #expect(s.peekSequence(tp) == 0 && s.inFlightCount(tp) == 0)
    }
}
