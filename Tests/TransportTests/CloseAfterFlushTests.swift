import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Transport

@Suite struct CloseAfterFlushTests {
    /// Runs a server whose accepted connection queues `bytes` after the first read, then closes after
    /// the flush with a grace of `graceMillis`; returns the port and a semaphore signalled on close.
    private func server(_ loop: EventLoop, bytes: Int, graceMillis: Int) -> (Int, DispatchSemaphore) {
        let portBox = Mutex<Int>(0)
        let ready = DispatchSemaphore(value: 0)
        let closed = DispatchSemaphore(value: 0)
        loop.execute {
            let l = try! Listener(host: "127.0.0.1", port: 0, loop: loop)
            l.onAccept = { c in
                c.onRead = { conn, _ in
                    conn.write([UInt8](repeating: 7, count: bytes))
                    conn.closeAfterFlush(graceMillis: graceMillis)
                }
                c.onClose = { _, _ in closed.signal() }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
            ready.signal()
        }
        ready.wait()
        return (portBox.withLock { $0 }, closed)
    }

    /// A peer that never reads cannot keep a closing connection and its queue alive.
    @Test func aPeerThatNeverReadsIsClosedAfterTheGrace() throws {
        let loop = EventLoop(name: "grace")
        loop.startThread()
        defer { loop.stop() }
        // More than loopback's socket buffers hold, so the queue cannot drain by itself.
        let (port, closed) = server(loop, bytes: 32 << 20, graceMillis: 300)
        let s = try BlockingSocket(host: "127.0.0.1", port: port)
        defer { s.close() }
        try s.sendAll([1])
        #expect(closed.wait(timeout: .now() + 0.1) == .timedOut)
        #expect(closed.wait(timeout: .now() + 5) == .success)
    }

    /// A reading peer gets every byte before the close.
    @Test func aReadingPeerGetsTheWholeQueueFirst() throws {
        let loop = EventLoop(name: "flush")
        loop.startThread()
        defer { loop.stop() }
        let (port, closed) = server(loop, bytes: 4 << 20, graceMillis: 10_000)
        let s = try BlockingSocket(host: "127.0.0.1", port: port)
        defer { s.close() }
        try s.sendAll([1])
        var got = 0
        while got < 4 << 20 { got += try s.readExactly(min(1 << 20, (4 << 20) - got)).count }
        #expect(closed.wait(timeout: .now() + 5) == .success)
    }
}
