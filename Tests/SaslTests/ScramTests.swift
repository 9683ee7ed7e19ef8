import Crypto
import Sasl
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

/// RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256) example exchanges, user "user", password "pencil".
struct RFCVector {
    let digest: DigestAlgorithm
    let clientNonce, serverNonceSuffix, salt, serverFirst, clientFinal, serverFinal: String
    static let rfc5802 = RFCVector(
        digest: .sha1, clientNonce: "fyko+d2lbbFgONRv9qkxdawL", serverNonceSuffix: "3rfcNHYJY1ZVvWVs7j", salt: "QSXCR+Q6sek8bf92",
        serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
    static let rfc7677 = RFCVector(
        digest: .sha256, clientNonce: "rOprNGfwEbeRWgbNEkqO", serverNonceSuffix: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
        serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")

    var credential: ScramCredential {
        ScramCredential(digest: digest, password: "pencil", salt: Scram.unbase64(salt) ?? [], iterations: 4096)
    }

    func server(password: String = "pencil") -> ScramServer {
        let cred = ScramCredential(digest: digest, password: password, salt: Scram.unbase64(salt) ?? [], iterations: 4096)
        return ScramServer(digest: digest, mechanism: .scramSha256, serverNonce: serverNonceSuffix) { $0 == "user" ? cred : nil }
    }
}

@Suite struct ScramTests {
    @Test(arguments: [RFCVector.rfc5802, RFCVector.rfc7677])
    func serverFollowsTheRFCExample(_ v: RFCVector) {
        var s = v.server()
        check(s.step(bytes("n,,n=user,r=\(v.clientNonce)")) == .challenge(bytes(v.serverFirst)))
        check(s.step(bytes(v.clientFinal)) == .success(user: "user", final: bytes(v.serverFinal)))
    }

    @Test(arguments: [RFCVector.rfc5802, RFCVector.rfc7677])
    func clientFollowsTheRFCExample(_ v: RFCVector) throws {
        var c = ScramClient(digest: v.digest, user: "user", password: "pencil", clientNonce: v.clientNonce)
        check(text(c.firstMessage()) == "n,,n=user,r=\(v.clientNonce)")
        #expect(text(try c.finalMessage(serverFirst: bytes(v.serverFirst))) == v.clientFinal)
        try c.verify(serverFinal: bytes(v.serverFinal))
        #expect(throws: SaslClientError.self) { try c.verify(serverFinal: bytes("v=AAAA")) }
    }

    @Test func wrongPasswordFails() throws {
        let v = RFCVector.rfc7677
        var s = v.server(password: "other")
        guard case .challenge(let first) = s.step(bytes("n,,n=user,r=\(v.clientNonce)")) else { Issue.record("no challenge"); return }
        var c = ScramClient(digest: .sha256, user: "user", password: "pencil", clientNonce: v.clientNonce)
        _ = c.firstMessage()
        let final = try c.finalMessage(serverFirst: first)
        guard case .failure(let msg) = s.step(final) else { Issue.record("wrong password accepted"); return }
        #expect(msg.contains("invalid credentials"))
    }

    @Test func unknownUserAndGarbageFail() {
        let v = RFCVector.rfc7677
        var s = v.server()
        check(s.step(bytes("n,,n=mallory,r=abc")) != .challenge([]))
        for junk in ["", "garbage", "p=tls-unique,,n=user,r=x", "n,,r=x,n=user", "n,,n=user,r=x,ext=1", "n,a=other,n=user,r=x"] {
            var t = v.server()
            if case .failure = t.step(bytes(junk)) {} else { Issue.record("accepted \(junk)") }
        }
        var u = v.server()
        if case .failure = u.step([0xff, 0xfe, 0x00]) {} else { Issue.record("accepted invalid UTF-8") }
    }

    @Test func replayedOrAlteredFinalMessagesFail() {
        let v = RFCVector.rfc7677
        // Same client final with a different server nonce (a replay into a new exchange).
        var s = ScramServer(digest: .sha256, mechanism: .scramSha256, serverNonce: "fresh") { _ in v.credential }
        _ = s.step(bytes("n,,n=user,r=\(v.clientNonce)"))
        if case .failure = s.step(bytes(v.clientFinal)) {} else { Issue.record("replayed final accepted") }
        // After the exchange ends nothing more is accepted.
        var done = v.server()
        _ = done.step(bytes("n,,n=user,r=\(v.clientNonce)"))
        _ = done.step(bytes(v.clientFinal))
        if case .failure = done.step(bytes(v.clientFinal)) {} else { Issue.record("token after completion accepted") }
        // Wrong channel binding.
        var cb = v.server()
        _ = cb.step(bytes("n,,n=user,r=\(v.clientNonce)"))
        let tampered = v.clientFinal.replacingOccurrences(of: "c=biws", with: "c=eSws")
        if case .failure = cb.step(bytes(tampered)) {} else { Issue.record("channel binding not checked") }
    }

    @Test func credentialUsesKafkaConfigForm() throws {
        let c = RFCVector.rfc7677.credential
        let s = c.kafkaConfigValue
        #expect(s.hasPrefix("salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key="))
        #expect(s.hasSuffix(",iterations=4096"))
        #expect(ScramCredential.parseKafkaConfigValue(s) == c)
        #expect(ScramCredential.parseKafkaConfigValue("salt=,stored_key=x") == nil)
    }

    @Test func roundTripWithSHA512() throws {
        let salt = Digests.randomBytes(16)
        let cred = ScramCredential(digest: .sha512, password: "s3cret", salt: salt, iterations: 4096)
        var s = ScramServer(digest: .sha512, mechanism: .scramSha512) { $0 == "a,b=c" ? cred : nil }
        var c = ScramClient(digest: .sha512, user: "a,b=c", password: "s3cret")
        guard case .challenge(let first) = s.step(c.firstMessage()) else { Issue.record("no challenge"); return }
        guard case .success(let user, let final) = s.step(try c.finalMessage(serverFirst: first)) else { Issue.record("failed"); return }
        #expect(user == "a,b=c")
        try c.verify(serverFinal: final)
    }

    @Test func clientRefusesWeakIterationsAndForeignNonce() {
        var c = ScramClient(digest: .sha256, user: "u", password: "p", clientNonce: "abc")
        _ = c.firstMessage()
        #expect(throws: SaslClientError.self) { try c.finalMessage(serverFirst: bytes("r=abcdef,s=QSXCR+Q6sek8bf92,i=1000")) }
        #expect(throws: SaslClientError.self) { try c.finalMessage(serverFirst: bytes("r=xyz,s=QSXCR+Q6sek8bf92,i=4096")) }
    }
}

@Suite struct ScramNonceEchoTests {
    /// librdkafka echoes client nonce + the combined nonce; Kafka accepts any nonce ending with ours.
    @Test func acceptsLibrdkafkaNonceEchoButNotAForeignOne() throws {
        let cred = ScramCredential(digest: .sha256, password: "pw", salt: Array("salty".utf8), iterations: 4096)
        func run(_ transform: (String, String) -> String) throws -> SaslStep {
            var s = ScramServer(digest: .sha256, mechanism: .scramSha256, serverNonce: "SRV") { _ in cred }
            guard case .challenge(let first) = s.step(Array("n,,n=u,r=CLI".utf8)) else { return .failure("no challenge") }
            let sf = String(decoding: first, as: UTF8.self)
            let combined = "CLISRV"
            let withoutProof = "c=biws,r=\(transform("CLI", combined))"
            let salted = Scram.saltedPassword(.sha256, password: "pw", salt: cred.salt, iterations: 4096)
            let clientKey = Digests.hmac(.sha256, key: salted, Array("Client Key".utf8))
            let auth = Array("n=u,r=CLI,\(sf),\(withoutProof)".utf8)
            let sig = Digests.hmac(.sha256, key: Digests.hash(.sha256, clientKey), auth)
            let proof = zip(clientKey, sig).map { $0 ^ $1 }
            return s.step(Array("\(withoutProof),p=\(Scram.base64(proof))".utf8))
        }
        if case .success = try run({ c, n in c + n }) {} else { Issue.record("librdkafka echo refused") }
        if case .success = try run({ _, n in n }) {} else { Issue.record("RFC echo refused") }
        if case .failure = try run({ _, _ in "CLIOTHER" }) {} else { Issue.record("foreign nonce accepted") }
    }
}
