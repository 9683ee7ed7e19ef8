@testable import BrokerServer
import Testing

@Suite struct RequestChannelTests {
    final class Token: Sendable {}

    private func request(holding token: Token) -> QueuedRequest {
        QueuedRequest(frame: [UInt8](repeating: 0, count: 1 << 20), connectionID: 1, peer: "test", receivedAtNanos: 0) { _ in
            _ = token
        }
    }

    @Test func aTakenRequestIsNotKeptAliveByTheQueue() {
        let channel = RequestChannel(capacity: 8)
        weak var first: Token?
        do {
            let t = Token()
            first = t
            #expect(channel.offer(request(holding: t)))
            #expect(channel.offer(request(holding: Token())))
        }
        do {
            let taken = channel.take()
            #expect(taken != nil)
        }
        // The second request is still queued; the first one's frame and closure must be gone.
        #expect(first == nil)
        #expect(channel.count == 1)
    }

    @Test func offerRefusesWhenFullAndTakeReturnsInOrder() {
        let channel = RequestChannel(capacity: 2)
        let tokens = [Token(), Token(), Token()]
        #expect(channel.offer(QueuedRequest(frame: [1], connectionID: 1, peer: "a", receivedAtNanos: 0) { _ in _ = tokens[0] }))
        #expect(channel.offer(QueuedRequest(frame: [2], connectionID: 2, peer: "b", receivedAtNanos: 0) { _ in _ = tokens[1] }))
        #expect(!channel.offer(QueuedRequest(frame: [3], connectionID: 3, peer: "c", receivedAtNanos: 0) { _ in _ = tokens[2] }))
        #expect(channel.take()?.frame == [1])
        #expect(channel.take()?.frame == [2])
        channel.close()
        #expect(channel.take() == nil)
    }
}
