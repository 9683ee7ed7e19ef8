import Testing
@testable import BrokerCore

@Suite struct ProducerTests {
    func batch(_ pid: Int64 = 7, epoch: Int16 = 0, seq: Int32, count: Int32 = 1) -> ProducerBatchHeader {
        ProducerBatchHeader(producerId: pid, producerEpoch: epoch, baseSequence: seq, lastOffsetDelta: count - 1)
    }

    @Test func inOrderAppendsAndDuplicates() {
        var t = ProducerStateTable()
        #expect(t.check(batch(seq: 0, count: 3)) == .append)
        t.appended(batch(seq: 0, count: 3), firstOffset: 100, lastOffset: 102, timestampMs: 1)
        #expect(t.check(batch(seq: 3, count: 2)) == .append)
        t.appended(batch(seq: 3, count: 2), firstOffset: 110, lastOffset: 111, timestampMs: 2)
        // A retry of either batch is answered with its original offsets.
        #expect(t.check(batch(seq: 0, count: 3)) == .duplicate(firstOffset: 100, lastOffset: 102))
        #expect(t.check(batch(seq: 3, count: 2)) == .duplicate(firstOffset: 110, lastOffset: 111))
        // A gap, or a resend that does not match a cached batch, is out of order.
        #expect(t.check(batch(seq: 6)) == .reject(.outOfOrderSequenceNumber))
        #expect(t.check(batch(seq: 1)) == .reject(.outOfOrderSequenceNumber))
        // Non-idempotent batches are never checked.
        #expect(t.check(ProducerBatchHeader(producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0)) == .append)
    }

    @Test func onlyTheLastFiveBatchesAreRemembered() {
        var t = ProducerStateTable()
        for i in 0..<7 {
            t.appended(batch(seq: Int32(i)), firstOffset: Int64(i), lastOffset: Int64(i), timestampMs: 0)
        }
        #expect(t.entries[7]?.batches.map { $0.firstSequence } == [2, 3, 4, 5, 6])
        #expect(t.check(batch(seq: 2)) == .duplicate(firstOffset: 2, lastOffset: 2))
        #expect(t.check(batch(seq: 1)) == .reject(.outOfOrderSequenceNumber))
    }

    @Test func epochRules() {
        var t = ProducerStateTable()
        t.appended(batch(epoch: 1, seq: 0, count: 5), firstOffset: 0, lastOffset: 4, timestampMs: 0)
        #expect(t.check(batch(epoch: 0, seq: 5)) == .reject(.invalidProducerEpoch))
        #expect(t.check(batch(epoch: 2, seq: 5)) == .reject(.outOfOrderSequenceNumber))
        #expect(t.check(batch(epoch: 2, seq: 0)) == .append)
        t.appended(batch(epoch: 2, seq: 0), firstOffset: 5, lastOffset: 5, timestampMs: 0)
        #expect(t.entries[7]?.epoch == 2 && t.entries[7]?.batches.count == 1)
        #expect(t.check(batch(epoch: 1, seq: 5)) == .reject(.invalidProducerEpoch))
    }

    @Test func unknownProducerMustStartAtZero() {
        let t = ProducerStateTable()
        #expect(t.check(batch(9, seq: 4)) == .reject(.unknownProducerId))
        #expect(t.check(batch(9, seq: 0)) == .append)
        #expect(t.check(batch(9, seq: -1)) == .reject(.outOfOrderSequenceNumber))
    }

    @Test func sequencesWrapAtInt32Max() {
        let wrapping = batch(seq: Int32.max - 1, count: 4)
        #expect(wrapping.lastSequence == 1)
        var t = ProducerStateTable()
        t.appended(batch(seq: 0), firstOffset: 0, lastOffset: 0, timestampMs: 0)
        t.appended(batch(seq: Int32.max), firstOffset: 1, lastOffset: 1, timestampMs: 0)  // loaded from the log as is
        #expect(t.check(batch(seq: 0, count: 2)) == .append)
        #expect(ProducerStateTable.inSequence(Int32.max, 0) && !ProducerStateTable.inSequence(Int32.max, 1))
    }

    @Test func rebuildFromLogMatchesLiveState() {
        var live = ProducerStateTable()
        var log: [(header: ProducerBatchHeader, firstOffset: Int64, lastOffset: Int64, timestampMs: Int64)] = []
        var offset: Int64 = 0
        for (pid, seq, n) in [(1, 0, 2), (2, 0, 1), (1, 2, 3), (2, 1, 1), (1, 5, 1)] as [(Int64, Int32, Int32)] {
            let b = batch(pid, seq: seq, count: n)
            #expect(live.check(b) == .append)
            live.appended(b, firstOffset: offset, lastOffset: offset + Int64(n) - 1, timestampMs: offset)
            log.append((b, offset, offset + Int64(n) - 1, offset))
            offset += Int64(n)
        }
        let rebuilt = ProducerStateTable.rebuild(from: log)
        #expect(rebuilt.entries == live.entries)
        #expect(rebuilt.check(batch(1, seq: 2, count: 3)) == .duplicate(firstOffset: 3, lastOffset: 5))
        var expiring = rebuilt
        expiring.expire(nowMs: 100, maxIdleMs: 93)
        #expect(Set(expiring.entries.keys) == [1])  // producer 2 last wrote at time 6, producer 1 at 7
    }

    @Test func producerIdBlocks() {
        var a = ProducerIdAllocator(brokerId: 3)
        #expect(a.needsBlock && a.allocate() == nil)
        let first = a.nextBlockWrite(current: nil)
        #expect(first.block == ProducerIdBlock(brokerId: 3, firstId: 0, lastId: 999))
        #expect(first.op == .create(path: "/latest_producer_id_block", data: first.block.encoded()))
        a.install(ProducerIdBlock(brokerId: 3, firstId: 1000, lastId: 1001))
        #expect(a.allocate() == 1000)
        #expect(a.allocate() == 1001)
        #expect(a.allocate() == nil && a.needsBlock)
        let next = a.nextBlockWrite(current: (ProducerIdBlock(brokerId: 1, firstId: 1000, lastId: 1999), 4))
        #expect(next.block.firstId == 2000)
        #expect(next.op == .setData(path: "/latest_producer_id_block", data: next.block.encoded(), expectedVersion: 4))
    }
}
