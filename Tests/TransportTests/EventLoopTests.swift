import Foundation
import Protocol
import Synchronization
import Testing
@testable import Transport

@Suite struct EventLoopTests {
    @Test func echoesLengthPrefixedFramesOverLoopback() throws {
        let loop = EventLoop(name: "echo")
        loop.startThread()
        defer { loop.stop() }
        let portBox = Mutex<Int>(0)
        let ready = DispatchSemaphore(value: 0)
        loop.execute {
            let l = try! Listener(host: "127.0.0.1", port: 0, loop: loop)
            l.onAccept = { c in
                var dec = FrameDecoder(maxFrameBytes: 1 << 20)
                c.onRead = { conn, bytes in
                    dec.append(bytes)
                    while case .frame(let f) = dec.next() {
                        var w = ByteWriter()
                        w.withInt32LengthPrefix { $0.writeBytes(f.reversed()) }
                        conn.write(w.bytes)
                    }
                }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
            ready.signal()
        }
        ready.wait()
        let port = portBox.withLock { $0 }
        let s = try BlockingSocket(host: "127.0.0.1", port: port)
        for i in 0..<50 {
            let body = [UInt8](repeating: UInt8(i), count: i * 100) + [1, 2, 3]
            try s.sendFrame(body)
            #expect(try s.readFrame() == Array(body.reversed()))
        }
    }

    @Test func timersFireInDeadlineOrderAndCancelledOnesDoNot() {
        let loop = EventLoop(name: "timers")
        loop.startThread()
        defer { loop.stop() }
        let fired = Mutex<[Int]>([])
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            loop.schedule(afterMillis: 30) { fired.withLock { $0.append(3) }; done.signal() }
            let h = loop.schedule(afterMillis: 10) { fired.withLock { $0.append(99) } }
            loop.schedule(afterMillis: 5) { fired.withLock { $0.append(1) } }
            loop.schedule(afterMillis: 15) { fired.withLock { $0.append(2) } }
            loop.cancel(h)
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(fired.withLock { $0 } == [1, 2, 3])
    }

    @Test func frameDecoderRefusesOversizedAndNegativeLengths() {
        var d = FrameDecoder(maxFrameBytes: 10)
        d.append([0, 0, 0, 11])
        #expect(d.next() == .tooLarge(11))
        var n = FrameDecoder(maxFrameBytes: 10)
        n.append([0xff, 0xff, 0xff, 0xff])
        #expect(n.next() == .negativeLength(-1))
        var p = FrameDecoder(maxFrameBytes: 10)
        p.append([0, 0, 0, 2, 7])
        #expect(p.next() == .needMoreData)
        p.append([8])
        #expect(p.next() == .frame([7, 8]))
    }
}
