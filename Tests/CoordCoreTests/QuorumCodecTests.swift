import Protocol
import Testing

@Suite struct QuorumCodecTests {
    static let origin = RequestOrigin(server: 3, session: -42, xid: 7)
    static let samples: [QuorumMessage] = {
        let z = Zxid(epoch: 5, counter: 9)
        let bodies: [SessionMessage] = [
            .followerInfo(acceptedEpoch: 4, acceptedLeader: 2, lastZxid: z),
            .ackEpoch(currentEpoch: 3, log: LogSummary(base: Zxid(epoch: 1, counter: 2), lastZxid: z,
                                                       epochEnds: [Zxid(epoch: 2, counter: 8), z])),
            .ackNewLeader(epoch: 6, lastZxid: z),
            .ack(z), .pong(lastZxid: z),
            .request(ClientRequest(origin: origin, data: [1, 2, 3])),
            .sync(origin),
            .leaderInfo(epoch: 6), .truncate(z),
            .snapshot(zxid: z, data: Array(repeating: 0xAB, count: 300)),
            .proposal(prev: Zxid(epoch: 5, counter: 8), txn: QuorumTxn(zxid: z, data: [9], origin: origin)),
            .proposal(prev: .zero, txn: QuorumTxn(zxid: z, data: [])),
            .newLeader(epoch: 6), .upToDate(commit: z), .commit(z), .ping(commit: z),
            .syncDone(origin, zxid: z),
            .inform(prev: Zxid(epoch: 5, counter: 8), txn: QuorumTxn(zxid: z, data: [7], origin: origin)),
            .inform(prev: .zero, txn: QuorumTxn(zxid: z, data: [])),
        ]
        let vote = Vote(leader: 2, zxid: z, epoch: 5)
        return [.election(ElectionNotification(round: 12, state: .leading, vote: vote))]
            + bodies.enumerated().map { .session(id: 0xDEAD_BEEF, seq: UInt64($0.offset), $0.element) }
    }()

    @Test func everyMessageRoundTrips() throws {
        for m in Self.samples {
            #expect(try QuorumCodec.decode(QuorumCodec.encode(m)) == m)
        }
    }

    @Test func framesCarryTheirLength() throws {
        var decoder = FrameDecoder(maxFrameBytes: QuorumCodec.maxFrameBytes)
        for m in Self.samples { decoder.append(QuorumCodec.encodeFrame(m)) }
        for m in Self.samples {
            guard case .frame(let f) = decoder.next() else { Issue.record("missing frame"); return }
            #expect(try QuorumCodec.decode(f) == m)
        }
        #expect(decoder.next() == .needMoreData)
    }

    @Test func everyTruncationThrows() {
        for m in Self.samples {
            let bytes = QuorumCodec.encode(m)
            for cut in 0..<bytes.count {
                #expect(throws: DecodeError.self) { try QuorumCodec.decode(Array(bytes[..<cut])) }
            }
        }
    }

    @Test func trailingBytesUnknownTagsAndBadFieldsThrow() {
        let ping = QuorumCodec.encode(.session(id: 1, seq: 0, .ping(commit: .zero)))
        #expect(throws: DecodeError.self) { try QuorumCodec.decode(ping + [0]) }
        #expect(throws: DecodeError.self) { try QuorumCodec.decode([0xEE]) }
        var election = QuorumCodec.encode(.election(ElectionNotification(
            round: 1, state: .looking, vote: Vote(leader: 1, zxid: .zero, epoch: 0))))
        election[9] = 7 // the state byte
        #expect(throws: DecodeError.self) { try QuorumCodec.decode(election) }
        var proposal = QuorumCodec.encode(.session(id: 1, seq: 0, .proposal(prev: .zero, txn: QuorumTxn(zxid: Zxid(raw: 1), data: []))))
        proposal[33] = 2 // the origin flag
        #expect(throws: DecodeError.self) { try QuorumCodec.decode(proposal) }
    }

    @Test func hugeLengthsAreRefusedBeforeAllocating() {
        var w = ByteWriter()
        w.writeUInt8(34) // snapshot
        w.writeUInt64(1); w.writeUInt64(0); w.writeUInt64(5)
        w.writeUInt32(UInt32.max)
        #expect(throws: DecodeError.self) { try QuorumCodec.decode(w.bytes) }

        var a = ByteWriter()
        a.writeUInt8(17) // ackEpoch
        a.writeUInt64(1); a.writeUInt64(0); a.writeUInt32(1); a.writeUInt64(0); a.writeUInt64(0)
        a.writeUInt32(0x7FFF_FFFF)
        #expect(throws: DecodeError.self) { try QuorumCodec.decode(a.bytes) }
    }

    @Test func randomBytesNeverTrap() {
        var state: UInt64 = 0x1234_5678
        for _ in 0..<5000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let n = Int(state >> 58)
            var bytes: [UInt8] = []
            for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: state >> UInt64(i % 56))) }
            // Pick real tags often so that the field decoders get exercised.
            if n > 0 { bytes[0] = [1, 16, 17, 21, 34, 35, 40][Int(state % 7)] }
            _ = try? QuorumCodec.decode(bytes)
        }
    }

    @Test func handshakeIsVersionedAndChecked() throws {
        let frame = PeerHandshake(serverId: 7).encodeFrame()
        let body = Array(frame[4...])
        #expect(try PeerHandshake.decode(body) == PeerHandshake(serverId: 7))
        var badVersion = body
        badVersion[5] = 99
        #expect(throws: DecodeError.self) { try PeerHandshake.decode(badVersion) }
        var badMagic = body
        badMagic[0] = UInt8(ascii: "X")
        #expect(throws: DecodeError.self) { try PeerHandshake.decode(badMagic) }
        #expect(throws: DecodeError.self) { try PeerHandshake.decode(Array(body.prefix(9))) }
        #expect(throws: DecodeError.self) { try PeerHandshake.decode(body + [0]) }
    }

    @Test func zxidSplitsEpochAndCounter() {
        let z = Zxid(epoch: 0x12, counter: 0x34)
        #expect(z.raw == 0x12_0000_0034)
        #expect(z.epoch == 0x12 && z.counter == 0x34)
        #expect(Zxid(epoch: 1, counter: 0) > Zxid(epoch: 0, counter: .max))
        #expect(Zxid(epoch: 1, counter: .max).next == nil)
        #expect(Zxid(epoch: 1, counter: 1).next == Zxid(epoch: 1, counter: 2))
    }
}

@Suite struct QuorumStreamDecoderTests {
    @Test func handshakeThenMessagesArrivingByteByByte() throws {
        let messages = QuorumCodecTests.samples
        var stream = PeerHandshake(serverId: 9).encodeFrame()
        for m in messages { stream += QuorumCodec.encodeFrame(m) }
        var d = QuorumStreamDecoder()
        var got: [QuorumMessage] = []
        for b in stream {
            d.append([b])
            while let m = try d.next() { got.append(m) }
        }
        #expect(d.peer == 9)
        #expect(got == messages)
    }

    @Test func missingHandshakeOrOversizedFramesFail() {
        var noHandshake = QuorumStreamDecoder()
        noHandshake.append(QuorumCodec.encodeFrame(.session(id: 1, seq: 0, .ack(.zero))))
        #expect(throws: DecodeError.self) { try noHandshake.next() }

        var small = QuorumStreamDecoder(maxFrameBytes: 16)
        small.append(PeerHandshake(serverId: 1).encodeFrame())
        small.append([0, 0, 1, 0])
        #expect(throws: QuorumStreamDecoder.StreamError.badFrameLength(256)) { try small.next() }

        var negative = QuorumStreamDecoder()
        negative.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: QuorumStreamDecoder.StreamError.self) { try negative.next() }
    }

    /// Before the handshake only a handshake-sized frame is accepted: an unknown sender announcing
    /// 500 MB is refused on its first 4 bytes instead of being buffered.
    @Test func aHugeFrameBeforeTheHandshakeFailsAtOnce() throws {
        var d = QuorumStreamDecoder()
        d.append([0x1D, 0xCD, 0x65, 0x00])  // 500,000,000
        #expect(throws: QuorumStreamDecoder.StreamError.badFrameLength(500_000_000)) { try d.next() }
        // After the handshake the usual limit applies, and empty keepalive frames are skipped.
        var ok = QuorumStreamDecoder()
        ok.append(PeerHandshake(serverId: 2).encodeFrame() + [0, 0, 0, 0, 0, 0, 0, 0])
        ok.append(QuorumCodec.encodeFrame(.session(id: 1, seq: 0, .ack(.zero))))
        #expect(try ok.next() == .session(id: 1, seq: 0, .ack(.zero)))
        #expect(try ok.next() == nil)
    }
}

@Suite struct QuorumStreamDecoderAuthTests {
    let nonce = [UInt8](repeating: 7, count: PeerHandshake.nonceBytes)
    let mac = [UInt8](repeating: 9, count: PeerProof.macBytes)

    @Test func withAuthenticationTheProofComesSecondAndGatesMessages() throws {
        let msg = QuorumMessage.session(id: 1, seq: 0, .ack(.zero))
        var d = QuorumStreamDecoder(expectProof: true)
        d.append(PeerHandshake(serverId: 4, nonce: nonce).encodeFrame() + PeerProof(mac: mac).encodeFrame() + QuorumCodec.encodeFrame(msg))
        #expect(try d.next() == msg)
        #expect(d.peer == 4 && d.peerNonce == nonce && d.proof?.mac == mac)

        // A message where the proof belongs, or a handshake without a nonce, ends the link.
        var noProof = QuorumStreamDecoder(expectProof: true)
        noProof.append(PeerHandshake(serverId: 4, nonce: nonce).encodeFrame() + QuorumCodec.encodeFrame(msg))
        #expect(throws: DecodeError.self) { try noProof.next() }
        var noNonce = QuorumStreamDecoder(expectProof: true)
        noNonce.append(PeerHandshake(serverId: 4).encodeFrame())
        #expect(throws: DecodeError.self) { try noNonce.next() }
        // Without authentication here, a peer that sends a nonce is refused too (mismatched config).
        var plain = QuorumStreamDecoder()
        plain.append(PeerHandshake(serverId: 4, nonce: nonce).encodeFrame())
        #expect(throws: DecodeError.self) { try plain.next() }
    }

    @Test func beforeTheProofOnlyHandshakeSizedFramesAreRead() {
        var d = QuorumStreamDecoder(expectProof: true)
        d.append(PeerHandshake(serverId: 4, nonce: nonce).encodeFrame() + [0x1D, 0xCD, 0x65, 0x00])
        #expect(throws: QuorumStreamDecoder.StreamError.badFrameLength(500_000_000)) { try d.next() }
    }
}
