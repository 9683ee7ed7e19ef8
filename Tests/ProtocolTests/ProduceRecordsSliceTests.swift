import Testing
@testable import Protocol

/// The produce path's decode: a request's records are a slice of the frame (codegen `slice`), and a
/// frame that spans reads is gathered into one array of its size, handed out as it is.
@Suite struct ProduceRecordsSliceTests {
    static func produceFrame(_ records: [UInt8], version: Int16) throws -> [UInt8] {
        let req = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: "t", partitionData: [
            .init(index: 0, records: records), .init(index: 1, records: nil),
        ])])
        // Without the 4-byte length prefix, as the frame decoder hands it out.
        return Array(try KafkaRequestFrame.encode(req, version: version, correlationId: 7, clientId: "c").dropFirst(4))
    }

    @Test(arguments: [Int16(3), 7, 8])
    func recordsAreASliceOfTheFrame(version: Int16) throws {
        let records = try RecordBatch.build([Record(offset: 0, timestamp: 1, key: [1], value: [UInt8](repeating: 9, count: 300))])
        let frame = try Self.produceFrame(records, version: version)
        let req = try KafkaRequestFrame.parse(frame).decodeBody(ProduceRequest.self)
        let parts = req.topicData[0].partitionData
        let slice = try #require(parts[0].records)
        #expect(Array(slice) == records)
        #expect(parts[1].records == nil)
        frame.withUnsafeBytes { f in
            slice.withUnsafeBytes { s in
                // The same memory, not an equal copy.
                #expect(s.baseAddress.map { $0 >= f.baseAddress! && $0 + s.count <= f.baseAddress! + f.count } == true)
            }
        }
        // Encoding the decoded message gives the frame back.
        var w = ByteWriter()
        try req.encode(into: &w, version: version)
        #expect(frame.suffix(w.bytes.count).elementsEqual(w.bytes))
    }

    @Test func aFrameSpanningReadsIsReservedOnceAtItsLength() {
        let body = (0..<(300 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let n = UInt32(body.count)
        let stream = [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + body
        var d = FrameDecoder(maxFrameBytes: 1 << 20)
        var frames: [[UInt8]] = []
        var capacities: Set<Int> = []
        // Read-buffer sized chunks, the length prefix split across the first two.
        var pos = 0
        for size in [2, 64 << 10, 64 << 10, 64 << 10, 64 << 10, 64 << 10] + [stream.count] {
            let end = min(stream.count, pos + size)
            guard pos < end else { break }
            stream[pos..<end].withUnsafeBytes { raw in
                var input = FrameDecoder.Input(raw)
                while case .frame(let f) = d.next(&input) { frames.append(f) }
                #expect(input.remaining == 0)
            }
            if d.bufferedBytes > 4 { capacities.insert(d.bufferCapacity) }
            pos = end
        }
        #expect(frames == [body])
        // One allocation of the frame's size from its first body bytes on: it never grew (a copy).
        #expect(capacities.count == 1 && (capacities.first ?? 0) >= body.count)
        #expect(d.bufferedBytes == 0 && d.bufferCapacity <= 4096)
    }
}
