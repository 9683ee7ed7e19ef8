import Crypto

/// SASL DIGEST-MD5 (RFC 2831) as ZooKeeper uses it: qop `auth` only (no integrity or privacy
/// layer), algorithm md5-sess, realm and server name `zk-sasl-md5`, service `zookeeper`.
public enum DigestMD5 {
    /// ZooKeeper's fixed realm and server name for DIGEST-MD5 (SecurityUtils).
    public static let zooKeeperRealm = "zk-sasl-md5"
    public static let zooKeeperProtocol = "zookeeper"
    /// A digest-challenge or digest-response is a few hundred bytes; RFC 2831 caps them at 2048
    /// and 4096 bytes. Anything longer is refused unparsed.
    public static let maxChallengeBytes = 2048
    public static let maxResponseBytes = 4096
    static let maxDirectives = 32

    /// Splits `key=value,key="quoted \" value",...` into ordered pairs; nil when malformed or too long.
    public static func directives(_ bytes: [UInt8], maxBytes: Int) -> [(key: String, value: String)]? {
        guard bytes.count <= maxBytes, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var out: [(String, String)] = []
        var chars = Array(text.unicodeScalars)[...]
        func skipSpace() { while let c = chars.first, c == " " || c == "\t" || c == "\r" || c == "\n" { chars.removeFirst() } }
        while true {
            skipSpace()
            while chars.first == "," { chars.removeFirst(); skipSpace() }
            if chars.isEmpty { break }
            var key = String.UnicodeScalarView()
            while let c = chars.first, c != "=", c != ",", c != " " { key.append(c); chars.removeFirst() }
            skipSpace()
            guard !key.isEmpty, chars.first == "=" else { return nil }
            chars.removeFirst()
            skipSpace()
            var value = String.UnicodeScalarView()
            if chars.first == "\"" {
                chars.removeFirst()
                var closed = false
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "\\" {
                        guard let e = chars.first else { return nil }
                        chars.removeFirst()
                        value.append(e)
                    } else if c == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { return nil }
            } else {
                while let c = chars.first, c != "," { value.append(c); chars.removeFirst() }
                while let l = value.last, l == " " || l == "\t" { value.removeLast() }
            }
            out.append((String(key).lowercased(), String(value)))
            guard out.count <= maxDirectives else { return nil }
            skipSpace()
            guard chars.isEmpty || chars.first == "," else { return nil }
        }
        return out
    }

    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func md5(_ b: [UInt8]) -> [UInt8] { Digests.hash(.md5, b) }
    static func hexMD5(_ b: [UInt8]) -> String { md5(b).hexString }

    /// The bytes of a username, realm or password in A1: UTF-8 when the exchange said
    /// `charset=utf-8`, otherwise ISO 8859-1 (RFC 2831 2.1.2.1) when the text fits in it.
    static func credentialBytes(_ s: String, utf8: Bool) -> [UInt8] {
        if !utf8, s.unicodeScalars.allSatisfy({ $0.value <= 0xFF }) { return s.unicodeScalars.map { UInt8($0.value) } }
        return Array(s.utf8)
    }

    /// H(username:realm:password): what a server could store instead of the password.
    static func userHash(user: String, realm: String, password: String, utf8: Bool) -> [UInt8] {
        md5(credentialBytes(user, utf8: utf8) + [0x3A] + credentialBytes(realm, utf8: utf8) + [0x3A] + credentialBytes(password, utf8: utf8))
    }

    /// response-value (RFC 2831 2.1.2.1); `a2Prefix` is "AUTHENTICATE" for the client's response
    /// and "" for the server's rspauth.
    static func responseValue(userHash: [UInt8], nonce: String, cnonce: String, authzid: String?, nc: String,
                              qop: String, digestURI: String, a2Prefix: String) -> String {
        var a1 = userHash + Array(":\(nonce):\(cnonce)".utf8)
        if let authzid { a1 += Array(":\(authzid)".utf8) }
        let a2 = Array("\(a2Prefix):\(digestURI)".utf8)
        return hexMD5(Array("\(hexMD5(a1)):\(nonce):\(nc):\(cnonce):\(qop):\(hexMD5(a2))".utf8))
    }
}

/// The server side of one DIGEST-MD5 exchange: empty initial token → digest-challenge →
/// digest-response (checked) → rspauth. Users and passwords come from a DigestLoginModule JAAS
/// entry (`user_<name>="<password>"`).
public struct DigestMD5Server: Sendable {
    enum State: Sendable { case initial, awaitingResponse, done }

    let users: [String: String]
    let realm: String
    let digestURI: String
    let nonce: String
    private var state = State.initial

    /// `nonce` is fixed only by tests; otherwise 24 random bytes in base64.
    public init(users: [String: String], realm: String = DigestMD5.zooKeeperRealm,
                protocol proto: String = DigestMD5.zooKeeperProtocol, serverName: String = DigestMD5.zooKeeperRealm,
                nonce: String = Scram.base64(Digests.randomBytes(24))) {
        self.users = users
        self.realm = realm
        self.digestURI = "\(proto)/\(serverName)"
        self.nonce = nonce
    }

    public var isComplete: Bool { if case .done = state { return true } else { return false } }

    static let failed = "DIGEST-MD5: authentication failed"

    public mutating func step(_ token: [UInt8]) -> SaslStep {
        switch state {
        case .initial:
            // DIGEST-MD5 has no initial response: the client starts with an empty token.
            guard token.isEmpty else { state = .done; return .failure("DIGEST-MD5 must not have an initial response") }
            state = .awaitingResponse
            let challenge = "realm=\(DigestMD5.quote(realm)),nonce=\(DigestMD5.quote(nonce)),qop=\"auth\",charset=utf-8,algorithm=md5-sess"
            return .challenge(Array(challenge.utf8))
        case .awaitingResponse:
            state = .done
            return response(token)
        case .done:
            return .failure("DIGEST-MD5 exchange already finished")
        }
    }

    private func response(_ token: [UInt8]) -> SaslStep {
        guard let pairs = DigestMD5.directives(token, maxBytes: DigestMD5.maxResponseBytes) else {
            return .failure("DIGEST-MD5: malformed digest-response")
        }
        var d: [String: String] = [:]
        for (k, v) in pairs {
            // Every directive this side reads may appear at most once (RFC 2831 2.1.2).
            guard d[k] == nil else { return .failure("DIGEST-MD5: directive \(k) given twice") }
            d[k] = v
        }
        guard let user = d["username"], !user.isEmpty, let cnonce = d["cnonce"], !cnonce.isEmpty,
              let nc = d["nc"], let uri = d["digest-uri"], let resp = d["response"] else {
            return .failure("DIGEST-MD5: digest-response lacks username, cnonce, nc, digest-uri or response")
        }
        guard d["nonce"] == nonce else { return .failure("DIGEST-MD5: nonce mismatch") }
        guard nc == "00000001" else { return .failure("DIGEST-MD5: nonce count must be 00000001") }
        let qop = d["qop"] ?? "auth"
        guard qop == "auth" else { return .failure("DIGEST-MD5: only qop=auth is supported") }
        let clientRealm = d["realm"] ?? ""
        guard clientRealm.isEmpty || clientRealm == realm else { return .failure("DIGEST-MD5: unknown realm") }
        guard uri.lowercased() == digestURI.lowercased() else { return .failure("DIGEST-MD5: digest-uri mismatch") }
        let utf8 = d["charset"]?.lowercased() == "utf-8"
        let authzid = d["authzid"]
        if let authzid, authzid != user {
            return .failure("DIGEST-MD5: an authorization id other than the username is not allowed")
        }
        // Compute against a placeholder for an unknown user so timing does not tell users apart.
        let password = users[user] ?? "\u{0}unknown-user"
        let hash = DigestMD5.userHash(user: user, realm: clientRealm, password: password, utf8: utf8)
        let expected = DigestMD5.responseValue(userHash: hash, nonce: nonce, cnonce: cnonce, authzid: authzid, nc: nc,
                                               qop: qop, digestURI: uri, a2Prefix: "AUTHENTICATE")
        guard Digests.constantTimeEqual(Array(resp.lowercased().utf8), Array(expected.utf8)), users[user] != nil else {
            return .failure(Self.failed)
        }
        let rspauth = DigestMD5.responseValue(userHash: hash, nonce: nonce, cnonce: cnonce, authzid: authzid, nc: nc,
                                              qop: qop, digestURI: uri, a2Prefix: "")
        return .success(user: user, final: Array("rspauth=\(rspauth)".utf8))
    }
}

/// The client side of DIGEST-MD5: an empty first token, the digest-response to the server's
/// challenge, then a check of rspauth so a server that does not know the password is noticed.
public struct DigestMD5Client: Sendable {
    let user: String
    let password: String
    let digestURI: String
    let cnonce: String
    private var expectedRspauth: String?

    public init(user: String, password: String, protocol proto: String = DigestMD5.zooKeeperProtocol,
                serverName: String = DigestMD5.zooKeeperRealm, cnonce: String = Scram.base64(Digests.randomBytes(24))) {
        self.user = user
        self.password = password
        self.digestURI = "\(proto)/\(serverName)"
        self.cnonce = cnonce
    }

    /// DIGEST-MD5 has no initial response.
    public var initialResponse: [UInt8] { [] }

    public mutating func respond(challenge: [UInt8]) throws(SaslClientError) -> [UInt8] {
        guard let pairs = DigestMD5.directives(challenge, maxBytes: DigestMD5.maxChallengeBytes) else {
            throw SaslClientError("malformed DIGEST-MD5 challenge")
        }
        var nonce: String?
        var realm = ""
        var qops: [String] = ["auth"]
        var utf8 = false
        var algorithm: String?
        for (k, v) in pairs {
            switch k {
            case "nonce":
                guard nonce == nil else { throw SaslClientError("DIGEST-MD5 challenge has two nonces") }
                nonce = v
            case "realm": if realm.isEmpty { realm = v }
            case "qop": qops = v.split(separator: ",").map { $0.trimmingSpaces.lowercased() }
            case "charset": utf8 = v.lowercased() == "utf-8"
            case "algorithm": algorithm = v.lowercased()
            default: break
            }
        }
        guard let nonce, !nonce.isEmpty else { throw SaslClientError("DIGEST-MD5 challenge without a nonce") }
        guard algorithm == "md5-sess" else { throw SaslClientError("DIGEST-MD5 challenge without algorithm=md5-sess") }
        guard qops.contains("auth") else { throw SaslClientError("DIGEST-MD5 server offers no qop=auth") }
        let nc = "00000001"
        let hash = DigestMD5.userHash(user: user, realm: realm, password: password, utf8: utf8)
        let response = DigestMD5.responseValue(userHash: hash, nonce: nonce, cnonce: cnonce, authzid: nil, nc: nc,
                                               qop: "auth", digestURI: digestURI, a2Prefix: "AUTHENTICATE")
        expectedRspauth = DigestMD5.responseValue(userHash: hash, nonce: nonce, cnonce: cnonce, authzid: nil, nc: nc,
                                                  qop: "auth", digestURI: digestURI, a2Prefix: "")
        var parts = [String]()
        if utf8 { parts.append("charset=utf-8") }
        parts.append("username=\(DigestMD5.quote(user))")
        parts.append("realm=\(DigestMD5.quote(realm))")
        parts.append("nonce=\(DigestMD5.quote(nonce))")
        parts.append("nc=\(nc)")
        parts.append("cnonce=\(DigestMD5.quote(cnonce))")
        parts.append("digest-uri=\(DigestMD5.quote(digestURI))")
        parts.append("maxbuf=65536")
        parts.append("response=\(response)")
        parts.append("qop=auth")
        return Array(parts.joined(separator: ",").utf8)
    }

    /// The server's final token (`rspauth=...`).
    public func verify(final token: [UInt8]) throws(SaslClientError) {
        guard let pairs = DigestMD5.directives(token, maxBytes: DigestMD5.maxChallengeBytes),
              let rspauth = pairs.first(where: { $0.key == "rspauth" })?.value, let expected = expectedRspauth,
              Digests.constantTimeEqual(Array(rspauth.lowercased().utf8), Array(expected.utf8)) else {
            throw SaslClientError("DIGEST-MD5 server response does not match: not the server holding our password")
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
