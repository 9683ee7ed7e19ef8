import Foundation
import Glibc
import Protocol
import Synchronization
import Testing
@testable import Transport

/// The read path without a per-connection read buffer: frames decoded in place from a borrowed
/// chunk, only an unfinished frame kept, and the connection callbacks back-pressure relies on.
@Suite struct ReadBufferTests {
    private func framed(_ body: [UInt8]) -> [UInt8] {
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + body
    }

    /// Feeds `stream` in chunks of the given sizes (cycled) and returns every frame.
    private func decode(_ stream: [UInt8], chunks: [Int], max: Int = 1 << 20) -> [[UInt8]] {
        var d = FrameDecoder(maxFrameBytes: max)
        var out: [[UInt8]] = []
        var pos = 0
        var i = 0
        while pos < stream.count {
            let n = min(chunks[i % chunks.count], stream.count - pos)
            i += 1
            stream[pos..<(pos + n)].withUnsafeBytes { raw in
                var input = FrameDecoder.Input(raw)
                while case .frame(let f) = d.next(&input) { out.append(f) }
                #expect(input.remaining == 0)
            }
            pos += n
        }
        #expect(d.bufferedBytes == 0)
        return out
    }

    @Test func framesSurviveEveryChunkBoundary() {
        var rng = SystemRandomNumberGenerator()
        let bodies: [[UInt8]] = (0..<40).map { i in (0..<(i * 37 % 300)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let stream = bodies.flatMap(framed)
        for chunks in [[1], [2], [3], [5], [7, 1], [4096], [stream.count], [13, 600, 1, 2]] {
            #expect(decode(stream, chunks: chunks) == bodies, "chunks \(chunks)")
        }
    }

    @Test func onlyTheUnfinishedFrameIsKeptAndDrainedBuffersAreReleased() {
        var d = FrameDecoder(maxFrameBytes: 1 << 20)
        // One byte of a length: one byte kept, not a read buffer.
        [UInt8(0)].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.next(&input) == .needMoreData)
        }
        #expect(d.bufferedBytes == 1)
        #expect(d.bufferCapacity < 64)
        // The rest of a 200 KiB frame arrives in two parts, followed by a whole small frame.
        let big = [UInt8](repeating: 7, count: 200 << 10)
        let stream = Array(framed(big).dropFirst()) + framed([1, 2, 3])
        let half = stream.count / 2
        stream[..<half].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.next(&input) == .needMoreData)
        }
        #expect(d.bufferedBytes == half + 1)
        stream[half...].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.next(&input) == .frame(big))
            // The big frame took only its own bytes; the small one comes straight from the chunk.
            #expect(input.remaining == 7)
            #expect(d.bufferedBytes == 0)
            #expect(d.next(&input) == .frame([1, 2, 3]))
            #expect(d.next(&input) == .needMoreData)
        }
        #expect(d.bufferCapacity <= 4096)
    }

    @Test func keptBytesAreDecodedLaterInOrder() {
        let stream = [[1], [2, 2], [3, 3, 3]].flatMap(framed) + [0, 0]
        var d = FrameDecoder(maxFrameBytes: 100)
        stream.withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.next(&input) == .frame([1]))
            // Back-pressure: stop here and keep the rest.
            d.keep(&input)
            #expect(input.remaining == 0)
        }
        #expect(d.bufferedBytes == stream.count - 5)
        #expect(d.next() == .frame([2, 2]))
        [UInt8(0), 1, 9].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.next(&input) == .frame([3, 3, 3]))
            #expect(d.next(&input) == .frame([9]))
            #expect(d.next(&input) == .needMoreData)
        }
    }

    @Test func peekSpansBufferAndInputWithoutConsuming() {
        var d = FrameDecoder(maxFrameBytes: 100)
        Array("ru".utf8).withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.peek(4, input) == Array("ru".utf8))
            d.keep(&input)
        }
        Array("ok\n".utf8).withUnsafeBytes { raw in
            let input = FrameDecoder.Input(raw)
            #expect(d.peek(4, input) == Array("ruok".utf8))
            #expect(input.remaining == 3)
        }
        #expect(d.bufferedBytes == 2)
    }

    @Test func lyingLengthsAreRefusedFromTheChunkAndFromTheBuffer() {
        var d = FrameDecoder(maxFrameBytes: 10)
        [UInt8(0), 0, 0, 11].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(d.next(&input) == .tooLarge(11))
        }
        var e = FrameDecoder(maxFrameBytes: 10)
        [UInt8(0xff), 0xff].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(e.next(&input) == .needMoreData)
        }
        [UInt8(0xff), 0xfe, 1, 2].withUnsafeBytes { raw in
            var input = FrameDecoder.Input(raw)
            #expect(e.next(&input) == .negativeLength(-2))
        }
    }

    /// A paused connection whose peer resets is closed, not left asking epoll about it forever.
    @Test func pausedConnectionIsClosedWhenThePeerResets() throws {
        let loop = EventLoop(name: "reset")
        loop.startThread()
        defer { loop.stop() }
        let portBox = Mutex<Int>(0)
        let ready = DispatchSemaphore(value: 0)
        let closed = DispatchSemaphore(value: 0)
        let reads = Mutex(0)
        loop.execute {
            let l = try! Listener(host: "127.0.0.1", port: 0, loop: loop)
            l.onAccept = { c in
                c.onRead = { conn, _ in
                    reads.withLock { $0 += 1 }
                    conn.setReadPaused(true)
                    conn.write([UInt8](repeating: 1, count: 16))
                }
                c.onClose = { _, _ in closed.signal() }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
            ready.signal()
        }
        ready.wait()
        let s = try BlockingSocket(host: "127.0.0.1", port: portBox.withLock { $0 })
        try s.sendAll([1, 2, 3])
        _ = try s.readExactly(16)
        try s.sendAll([4, 5, 6])
        // Linger 0: close sends RST.
        usleep(50_000)
        var lg = linger(l_onoff: 1, l_linger: 0)
        setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &lg, socklen_t(MemoryLayout<linger>.size))
        s.close()
        #expect(closed.wait(timeout: .now() + 5) == .success)
        #expect(reads.withLock { $0 } == 1)
    }

    @Test func writeDrainedFiresOnceTheQueueIsHandedToTheKernel() throws {
        let loop = EventLoop(name: "drain")
        loop.startThread()
        defer { loop.stop() }
        let portBox = Mutex<Int>(0)
        let ready = DispatchSemaphore(value: 0)
        let drained = DispatchSemaphore(value: 0)
        let pendingAtDrain = Mutex<[Int]>([])
        loop.execute {
            let l = try! Listener(host: "127.0.0.1", port: 0, loop: loop)
            l.onAccept = { c in
                c.onRead = { conn, _ in
                    // More than the socket buffers hold: the queue drains only as the client reads.
                    conn.write([UInt8](repeating: 9, count: 16 << 20))
                }
                c.onWriteDrained = { conn in
                    pendingAtDrain.withLock { $0.append(conn.pendingWriteBytes) }
                    drained.signal()
                }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
            ready.signal()
        }
        ready.wait()
        let s = try BlockingSocket(host: "127.0.0.1", port: portBox.withLock { $0 })
        try s.sendAll([1])
        usleep(200_000)
        #expect(pendingAtDrain.withLock { $0 }.isEmpty)
        var got = 0
        while got < 16 << 20 { got += try s.readExactly(min(1 << 20, (16 << 20) - got)).count }
        #expect(drained.wait(timeout: .now() + 5) == .success)
        #expect(pendingAtDrain.withLock { $0 } == [0])
    }
}
