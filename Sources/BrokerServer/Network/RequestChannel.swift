import Foundation
import Synchronization
import Transport

/// One request frame read by a network thread, waiting for a handler thread.
public struct QueuedRequest: Sendable {
    public let frame: [UInt8]
    public let connectionID: UInt64
    public let peer: String
    public let receivedAtNanos: UInt64
    /// The connection's listener and SASL state (nil: a plain test request).
    public var security: ConnectionSecurity? = nil
    /// Sends the response (or nothing, for acks=0) and lets the connection read its next request.
    public let respond: @Sendable ([ResponsePart]?) -> Void
}

/// The bounded queue between network threads and handler threads (Kafka's RequestChannel).
/// `offer` refuses when full; the network thread then stops reading that socket until there is room.
public final class RequestChannel: Sendable {
    private let state: Mutex<(queue: [QueuedRequest?], head: Int, closed: Bool)>
    private let condition = NSCondition()
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        state = Mutex((queue: [], head: 0, closed: false))
    }

    public var count: Int { state.withLock { $0.queue.count - $0.head } }

    public func offer(_ r: QueuedRequest) -> Bool {
        let ok = state.withLock { s -> Bool in
            if s.closed || s.queue.count - s.head >= capacity { return false }
            s.queue.append(r)
            return true
        }
        if ok {
            condition.lock()
            condition.signal()
            condition.unlock()
        }
        return ok
    }

    /// Blocks until a request is available or the channel is closed (nil).
    public func take() -> QueuedRequest? {
        while true {
            let r = state.withLock { s -> (QueuedRequest?, Bool) in
                if s.head < s.queue.count {
                    // Taken slots are cleared at once: a handled request must not keep its frame alive.
                    let r = s.queue[s.head]
                    s.queue[s.head] = nil
                    s.head += 1
                    if s.head == s.queue.count {
                        s.queue.removeAll(keepingCapacity: true)
                        s.head = 0
                    } else if s.head > 1024 && s.head * 2 > s.queue.count {
                        s.queue.removeFirst(s.head)
                        s.head = 0
                    }
                    return (r, false)
                }
                return (nil, s.closed)
            }
            if let req = r.0 { return req }
            if r.1 { return nil }
            condition.lock()
            if count == 0 && !state.withLock({ $0.closed }) {
                _ = condition.wait(until: Date().addingTimeInterval(0.2))
            }
            condition.unlock()
        }
    }

    public func close() {
        state.withLock { $0.closed = true }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}
