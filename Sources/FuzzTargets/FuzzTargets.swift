import Observability
import Protocol
import Sasl

/// One decoder an untrusted peer reaches, driven with arbitrary bytes. A target must return for
/// every input: errors are fine, a crash, a hang or an unbounded allocation is a bug. Where a
/// codec can re-encode what it decoded, the round trip must give the same value back (`check`).
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable ([UInt8]) -> Void
}

public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "jute-connect", summary: "ZooKeeper ConnectRequest (a client's first frame)", run: juteConnect),
        FuzzTarget(name: "jute-request", summary: "ZooKeeper request header + body, every opcode", run: juteRequest),
        FuzzTarget(name: "quorum-stream", summary: "coordd peer link: handshake, proof, quorum messages", run: quorumStream),
        FuzzTarget(name: "kafka-request", summary: "Kafka request header + body, every API and version", run: kafkaRequest),
        FuzzTarget(name: "record-batch", summary: "record batch v2 with its CRC fixed up: validation, records, compression", run: recordBatch),
        FuzzTarget(name: "decompress", summary: "gzip, snappy, lz4 and zstd payloads (first byte picks the codec)", run: decompress),
        FuzzTarget(name: "consumer-protocol", summary: "group member subscription and assignment bytes", run: consumerProtocol),
        FuzzTarget(name: "http", summary: "the admin plane's HTTP/1.1 request parser", run: http),
        FuzzTarget(name: "sasl-digest-md5", summary: "DIGEST-MD5 digest-response (coordd) and digest-challenge (clients)", run: saslDigestMD5),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// A violated round trip: the input is kept by the fuzzer as a crash.
    static func check(_ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { fatalError("fuzz invariant violated: \(what())") }
    }

    /// A client's digest-response after coordd's challenge, and a server's challenge to the client.
    static func saslDigestMD5(_ bytes: [UInt8]) {
        var server = DigestMD5Server(users: ["bob": "secret"], nonce: "fuzz-nonce")
        _ = server.step([])
        if case .success(let user, _) = server.step(bytes) { check(user == "bob", "DIGEST-MD5 success for an unknown user") }
        var client = DigestMD5Client(user: "bob", password: "secret")
        _ = try? client.respond(challenge: bytes)
    }

    static func juteConnect(_ bytes: [UInt8]) {
        guard let c = try? ZKConnectRequest.decode(bytes) else { return }
        check((try? ZKConnectRequest.decode(c.encoded())) == c, "ConnectRequest round trip")
    }

    static func juteRequest(_ bytes: [UInt8]) {
        var r = ByteReader(bytes)
        guard let h = try? ZKRequestHeader(jute: &r), let req = try? ZKRequest.decode(op: h.type, &r) else { return }
        var w = ByteWriter()
        req.write(jute: &w)
        var again = ByteReader(w.bytes)
        check((try? ZKRequest.decode(op: h.type, &again)) == req, "op \(h.type) round trip")
    }

    /// The low bit of the first byte turns authentication on; the next bytes cut the rest into reads.
    static func quorumStream(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        var d = QuorumStreamDecoder(maxFrameBytes: 1 << 20, expectProof: bytes[0] & 1 == 1)
        let chunk = Int(bytes[1]) + 1
        var i = 2
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            d.append(bytes[i..<end])
            i = end
            do {
                while let m = try d.next() {
                    check((try? QuorumCodec.decode(QuorumCodec.encode(m))) == m, "quorum message round trip")
                }
            } catch { return }
        }
    }

    static func kafkaRequest(_ bytes: [UInt8]) {
        guard let frame = try? KafkaRequestFrame.parse(bytes) else { return }
        _ = try? KafkaRequest.decode(frame)
    }

    static func recordBatch(_ bytes: [UInt8]) {
        let L = RecordBatchLayout.self
        guard bytes.count >= L.headerSize else { return }
        var b = bytes
        // The fuzzer cannot forge CRCs: make the length and the CRC honest so it reaches the records.
        let length = UInt32(b.count - L.logOverhead)
        for k in 0..<4 { b[L.batchLength + k] = UInt8(truncatingIfNeeded: length >> (24 - 8 * k)) }
        b[L.magic] = 2
        let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[L.attributes...])) }
        for k in 0..<4 { b[L.crc + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        b.withUnsafeBytes { buf in
            guard let h = try? RecordBatch.validate(buf) else { return }
            try? RecordBatch.validateRecords(buf, header: h, maxDecompressedBytes: 1 << 20)
        }
        // What a consumer-side decoder (the Swift client, the console) does with the same batch.
        _ = try? RecordBatch.records(of: b, maxDecompressedBytes: 1 << 20)
    }

    static func decompress(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let codecs: [CompressionType] = [.gzip, .snappy, .lz4, .zstd]
        let codec = codecs[Int(first) % codecs.count]
        let body = Array(bytes.dropFirst())
        guard let plain = try? RecordCompression.decompress(body, type: codec, maxBytes: 1 << 20) else { return }
        check(plain.count <= 1 << 20, "\(codec) output \(plain.count) bytes over its bound")
    }

    static func consumerProtocol(_ bytes: [UInt8]) {
        _ = try? ConsumerProtocolSubscription.decode(bytes)
        _ = try? ConsumerProtocolAssignment.decode(bytes)
    }

    static func http(_ bytes: [UInt8]) {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 2048
        limits.maxBodyBytes = 4096
        var p = HTTPParser(limits: limits)
        p.append(bytes)
        for _ in 0..<64 {
            guard case .request = p.next() else { return }
        }
    }
}
