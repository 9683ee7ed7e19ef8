import Crypto

/// SASL PLAIN (RFC 4616) against the users of a PlainLoginModule JAAS entry (`user_<name>="<password>"`).
public struct PlainServer: Sendable {
    let users: [String: String]
    private var done = false

    public init(users: [String: String]) { self.users = users }

    /// The one client message: [authzid] NUL authcid NUL passwd.
    public mutating func step(_ token: [UInt8]) -> SaslStep {
        guard !done else { return .failure("PLAIN exchange already finished") }
        done = true
        let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let authzid = String(validating: parts[0], as: UTF8.self),
              let user = String(validating: parts[1], as: UTF8.self), !parts[2].contains(0) else {
            return .failure("Invalid SASL/PLAIN response: expected 3 tokens")
        }
        guard !user.isEmpty else { return .failure("Authentication failed: username not specified") }
        guard !parts[2].isEmpty else { return .failure("Authentication failed: password not specified") }
        guard authzid.isEmpty || authzid == user else {
            return .failure("Authentication failed: Client requested an authorization id that is different from username")
        }
        // Compare against something even for an unknown user, so timing does not tell users apart.
        let expected = Array((users[user] ?? "\u{0}unknown-user").utf8)
        guard Digests.constantTimeEqual(Array(parts[2]), expected), users[user] != nil else {
            return .failure("Authentication failed: Invalid username or password")
        }
        return .success(user: user, final: [])
    }

    /// The client's token for PLAIN.
    public static func clientToken(user: String, password: String) -> [UInt8] {
        [0] + Array(user.utf8) + [0] + Array(password.utf8)
    }
}

/// A server-side exchange for any implemented mechanism.
public enum SaslServerExchange: Sendable {
    case plain(PlainServer)
    case scram(ScramServer)

    public mutating func step(_ token: [UInt8]) -> SaslStep {
        switch self {
        case .plain(var p):
            let r = p.step(token)
            self = .plain(p)
            return r
        case .scram(var s):
            let r = s.step(token)
            self = .scram(s)
            return r
        }
    }
}
