import Crypto
import Sasl
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

/// RFC 2831 section 4's example exchange: user chris, password secret, IMAP to elwood.innosoft.com.
private let rfcResponse = "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,"
    + "cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth"

private func rfcServer(password: String = "secret") -> DigestMD5Server {
    DigestMD5Server(users: ["chris": password], realm: "elwood.innosoft.com", protocol: "imap",
                    serverName: "elwood.innosoft.com", nonce: "OA6MG9tEQGm2hh")
}

@Suite struct DigestMD5Tests {
    @Test func md5MatchesRFC1321() {
        #expect(Digests.hash(.md5, bytes("abc")).hexString == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Digests.hash(.md5, []).hexString == "d41d8cd98f00b204e9800998ecf8427e")
    }

    @Test func serverAcceptsTheRFCExampleAndAnswersItsRspauth() {
        var s = rfcServer()
        guard case .challenge(let c) = s.step([]) else { Issue.record("no challenge"); return }
        let challenge = text(c)
        #expect(challenge.contains("nonce=\"OA6MG9tEQGm2hh\"") && challenge.contains("qop=\"auth\"") && challenge.contains("algorithm=md5-sess"))
        #expect(s.step(bytes(rfcResponse)) == .success(user: "chris", final: bytes("rspauth=ea40f60335c427b5527b84dbabcdfffd")))
        #expect(s.isComplete)
    }

    @Test func clientProducesTheRFCExampleResponse() throws {
        var c = DigestMD5Client(user: "chris", password: "secret", protocol: "imap", serverName: "elwood.innosoft.com", cnonce: "OA6MHXh6VqTrRk")
        #expect(c.initialResponse.isEmpty)
        let challenge = "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,charset=utf-8"
        let r = text(try c.respond(challenge: bytes(challenge)))
        #expect(r.contains("response=d388dad90d4bbd760a152321f2143af7"))
        #expect(r.contains("digest-uri=\"imap/elwood.innosoft.com\""))
        try c.verify(final: bytes("rspauth=ea40f60335c427b5527b84dbabcdfffd"))
        #expect(throws: SaslClientError.self) { try c.verify(final: bytes("rspauth=00000000000000000000000000000000")) }
    }

    @Test func wrongPasswordAndUnknownUserFailAlike() {
        var s = rfcServer(password: "other")
        _ = s.step([])
        #expect(s.step(bytes(rfcResponse)) == .failure("DIGEST-MD5: authentication failed"))
        var u = DigestMD5Server(users: ["someone": "secret"], realm: "elwood.innosoft.com", protocol: "imap",
                                serverName: "elwood.innosoft.com", nonce: "OA6MG9tEQGm2hh")
        _ = u.step([])
        #expect(u.step(bytes(rfcResponse)) == .failure("DIGEST-MD5: authentication failed"))
    }

    @Test func clientAndServerAgreeInZooKeeperDefaults() throws {
        var s = DigestMD5Server(users: ["bob": "sécret"])
        var c = DigestMD5Client(user: "bob", password: "sécret")
        guard case .challenge(let ch) = s.step(c.initialResponse) else { Issue.record("no challenge"); return }
        #expect(text(ch).contains("realm=\"zk-sasl-md5\""))
        let resp = try c.respond(challenge: ch)
        #expect(text(resp).contains("digest-uri=\"zookeeper/zk-sasl-md5\""))
        guard case .success(let user, let final) = s.step(resp) else { Issue.record("not accepted"); return }
        #expect(user == "bob")
        try c.verify(final: final)
    }

    @Test func refusesWhatTheExchangeDoesNotAllow() {
        func attempt(_ response: String) -> SaslStep {
            var s = rfcServer()
            _ = s.step([])
            return s.step(bytes(response))
        }
        // A replayed exchange under another nonce, a second round, a wrong service, a foreign authzid.
        #expect(attempt(rfcResponse.replacingOccurrences(of: "OA6MG9tEQGm2hh", with: "OTHERNONCE")) == .failure("DIGEST-MD5: nonce mismatch"))
        #expect(attempt(rfcResponse.replacingOccurrences(of: "nc=00000001", with: "nc=00000002")) == .failure("DIGEST-MD5: nonce count must be 00000001"))
        #expect(attempt(rfcResponse.replacingOccurrences(of: "imap/", with: "smtp/")) == .failure("DIGEST-MD5: digest-uri mismatch"))
        #expect(attempt(rfcResponse.replacingOccurrences(of: "qop=auth", with: "qop=auth-conf")) == .failure("DIGEST-MD5: only qop=auth is supported"))
        #expect(attempt(rfcResponse + ",authzid=\"root\"") == .failure("DIGEST-MD5: an authorization id other than the username is not allowed"))
        #expect(attempt(rfcResponse + ",nonce=\"x\"") == .failure("DIGEST-MD5: directive nonce given twice"))
        #expect(attempt(String(repeating: "a", count: DigestMD5.maxResponseBytes + 1)) == .failure("DIGEST-MD5: malformed digest-response"))
        #expect(attempt("username=\"unterminated") == .failure("DIGEST-MD5: malformed digest-response"))
        var s = rfcServer()
        #expect(s.step(bytes("x")) == .failure("DIGEST-MD5 must not have an initial response"))
        var done = rfcServer()
        _ = done.step([])
        _ = done.step(bytes(rfcResponse))
        #expect(done.step(bytes(rfcResponse)) == .failure("DIGEST-MD5 exchange already finished"))
    }

    @Test func directivesParseQuotesAndEscapes() {
        let d = DigestMD5.directives(bytes(#"a=1, b="x,\"y\"" ,c=plain value"#), maxBytes: 100)
        #expect(d?.map(\.key) == ["a", "b", "c"])
        #expect(d?.map(\.value) == ["1", "x,\"y\"", "plain value"])
        #expect(DigestMD5.directives(bytes("novalue"), maxBytes: 100) == nil)
        #expect(DigestMD5.directives(bytes(String(repeating: "a=1,", count: 40)), maxBytes: 1000) == nil)
    }
}

@Suite struct JaasFileTests {
    @Test func parsesZooKeeperServerAndClientSections() throws {
        let f = try JaasFile.parse("""
            // ZooKeeper's example
            Server {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                user_super="adminsecret" /* the admin */
                user_bob="se;cr}et";
            };
            Client {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                username="bob"
                password="se;cr}et";
            };
            """)
        #expect(f["Server"]?.first?.className == JaasFile.zooKeeperDigestLoginModule)
        #expect(f["Server"]?.first?.digestUsers == ["super": "adminsecret", "bob": "se;cr}et"])
        #expect(f["Client"]?.first?["username"] == "bob")
        #expect(f["Client"]?.first?["password"] == "se;cr}et")
    }

    @Test func refusesMalformedFiles() {
        #expect(throws: JaasError.self) { try JaasFile.parse("Server { x.Y required a=\"b\"; }") }  // no ';' after '}'
        #expect(throws: JaasError.self) { try JaasFile.parse("Server { x.Y required a=\"b\" };") }  // no ';' after the entry
        #expect(throws: JaasError.self) { try JaasFile.parse("Server { };") }
        #expect(throws: JaasError.self) { try JaasFile.parse("Server { x.Y required; }; Server { x.Y required; };") }
        #expect(throws: JaasError.self) { try JaasFile.parse("/* open") }
    }

    @Test func findsSystemPropertiesInJvmFlags() {
        let flags = "-Xmx1g -Djava.security.auth.login.config=/etc/a.conf -Dzookeeper.x=1 \"-Djava.security.auth.login.config=/etc/b.conf\""
        #expect(JvmFlags.systemProperty("java.security.auth.login.config", in: flags) == "/etc/b.conf")
        #expect(JvmFlags.systemProperty("zookeeper.y", in: flags) == nil)
    }
}
