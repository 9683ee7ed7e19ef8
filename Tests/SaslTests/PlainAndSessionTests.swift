import Sasl
import Testing

/// #expect cannot take mutating calls; a plain function can.
func check(_ ok: Bool, sourceLocation: SourceLocation = #_sourceLocation) { #expect(ok, sourceLocation: sourceLocation) }

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct JaasTests {
    @Test func parsesPlainLoginModule() throws {
        let m = try JaasConfig.parse(#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="a b\"c";"#)
        #expect(m.className == JaasLoginModule.plainLoginModule)
        #expect(m.flag == "required")
        #expect(m["username"] == "admin")
        #expect(m.plainUsers == ["admin": "admin-secret", "alice": "a b\"c"])
    }

    @Test func parsesUnquotedValuesAndNewlines() throws {
        let m = try JaasConfig.parse("org.apache.kafka.common.security.scram.ScramLoginModule required\n  username=broker\n  password=\"x=y\";")
        #expect(m["username"] == "broker")
        #expect(m["password"] == "x=y")
    }

    @Test(arguments: [
        "", "PlainLoginModule required;", "org.a.B mandatory;", "org.a.B required username=\"x\"",
        "org.a.B required username;", "org.a.B required username=\"x\" username=\"y\";",
        "org.a.B required username=\"x;", "org.a.B required; org.c.D required;", "org.a.B required =x;",
    ])
    func rejectsMalformed(_ s: String) {
        #expect(throws: JaasError.self) { try JaasConfig.parse(s) }
    }
}

@Suite struct PlainTests {
    let users = ["alice": "alice-secret", "admin": "pw"]

    @Test func acceptsTheRightPassword() {
        var s = PlainServer(users: users)
        check(s.step(PlainServer.clientToken(user: "alice", password: "alice-secret")) == .success(user: "alice", final: []))
        var z = PlainServer(users: users)
        check(z.step([UInt8]("alice".utf8) + [0] + Array("alice".utf8) + [0] + Array("alice-secret".utf8)) == .success(user: "alice", final: []))
    }

    @Test func rejectsWrongPasswordUnknownUserAndGarbage() {
        for token in [PlainServer.clientToken(user: "alice", password: "nope"), PlainServer.clientToken(user: "bob", password: "alice-secret"),
                      PlainServer.clientToken(user: "", password: "x"), PlainServer.clientToken(user: "alice", password: ""),
                      bytes("garbage"), [0], [UInt8]("admin".utf8) + [0] + Array("alice".utf8) + [0] + Array("alice-secret".utf8)] {
            var s = PlainServer(users: users)
            if case .failure = s.step(token) {} else { Issue.record("accepted \(token)") }
        }
        var once = PlainServer(users: users)
        _ = once.step(PlainServer.clientToken(user: "alice", password: "alice-secret"))
        if case .failure = once.step(PlainServer.clientToken(user: "alice", password: "alice-secret")) {} else { Issue.record("second token accepted") }
    }
}

@Suite struct SaslServerSessionTests {
    func session(max: Int = 1024) -> SaslServerSession {
        SaslServerSession(enabled: [.plain, .scramSha256], maxTokenBytes: max) { m in
            switch m {
            case .plain: return .plain(PlainServer(users: ["alice": "pw"]))
            default: return .scram(ScramServer(digest: .sha256, mechanism: m) { _ in nil })
            }
        }
    }

    @Test func v1SequenceCompletes() {
        var s = session()
        check(s.admit(.apiVersions))
        check(s.admit(.handshake))
        check(s.handshake(mechanism: "PLAIN", version: 1) == .accepted(enabled: ["PLAIN", "SCRAM-SHA-256"]))
        #expect(!s.expectsRawToken)
        check(s.admit(.authenticate))
        check(s.authenticate(PlainServer.clientToken(user: "alice", password: "pw")) == .success(user: "alice", final: []))
        #expect(s.phase == .complete(user: "alice"))
    }

    @Test func v0HandshakeExpectsRawTokens() {
        var s = session()
        check(s.admit(.handshake))
        _ = s.handshake(mechanism: "PLAIN", version: 0)
        #expect(s.expectsRawToken)
        check(s.authenticate(PlainServer.clientToken(user: "alice", password: "pw")) == .success(user: "alice", final: []))
    }

    @Test func anythingElseBeforeAuthenticationIsRefused() {
        var a = session()
        check(!a.admit(.other))
        #expect(a.phase == .failed)
        var b = session()
        check(!b.admit(.authenticate))  // token before handshake
        var c = session()
        check(c.admit(.apiVersions))
        check(c.admit(.apiVersions))  // a retry at a lower version
        _ = c.handshake(mechanism: "PLAIN", version: 1)
        check(!c.admit(.apiVersions))  // not once the handshake is done
        var d = session()
        _ = d.admit(.handshake)
        _ = d.handshake(mechanism: "PLAIN", version: 1)
        check(!d.admit(.other))
    }

    @Test func unknownMechanismWrongPasswordAndOversizeTokensFail() {
        var a = session()
        check(a.handshake(mechanism: "GSSAPI", version: 1) == .unsupported(enabled: ["PLAIN", "SCRAM-SHA-256"]))
        #expect(a.phase == .failed)
        var b = session()
        _ = b.handshake(mechanism: "PLAIN", version: 1)
        if case .failure = b.authenticate(PlainServer.clientToken(user: "alice", password: "bad")) {} else { Issue.record("bad password") }
        #expect(b.phase == .failed)
        if case .failure = b.authenticate(PlainServer.clientToken(user: "alice", password: "pw")) {} else { Issue.record("retry after failure") }
        var c = session(max: 16)
        _ = c.handshake(mechanism: "PLAIN", version: 1)
        if case .failure(let m) = c.authenticate([UInt8](repeating: 65, count: 17)) { check(m.contains("exceeds")) } else { Issue.record("oversize") }
        var d = session()
        _ = d.handshake(mechanism: "SCRAM-SHA-256", version: 1)
        if case .failure = d.authenticate(Array("n,,n=nobody,r=abc".utf8)) {} else { Issue.record("unknown SCRAM user") }
    }
}
