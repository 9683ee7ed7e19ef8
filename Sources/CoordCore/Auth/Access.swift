import Protocol

/// How the server authenticates and authorises, from zoo.cfg (ZooKeeper's system properties
/// `zookeeper.DigestAuthenticationProvider.superDigest`, `zookeeper.skipACL`,
/// `zookeeper.DigestAuthenticationProvider.enabled`).
public struct AuthPolicy: Sendable, Equatable {
    /// "super:<base64 sha1>": a connection that authenticates to this digest passes every check.
    public var superDigest: String?
    public var skipACL = false
    public var digestEnabled = true
    /// The `sasl` scheme (authProvider SASLAuthenticationProvider): SASL packets authenticate,
    /// `sasl:<user>` ACL entries are valid.
    public var saslEnabled = false
    /// SASL users that become super (zookeeper.superUser).
    public var saslSuperUsers: Set<String> = []
    /// Schemes a connection must hold an identity of before any request but auth and SASL is
    /// served (zookeeper.enforce.auth.schemes, zookeeper.sessionRequireClientSASLAuth); empty: off.
    public var enforcedSchemes: Set<String> = []
    public init(superDigest: String? = nil, skipACL: Bool = false, digestEnabled: Bool = true, saslEnabled: Bool = false,
                saslSuperUsers: Set<String> = [], enforcedSchemes: Set<String> = []) {
        self.superDigest = superDigest
        self.skipACL = skipACL
        self.digestEnabled = digestEnabled
        self.saslEnabled = saslEnabled
        self.saslSuperUsers = saslSuperUsers
        self.enforcedSchemes = enforcedSchemes
    }

    /// Whether a scheme has a provider on this server (ip always; digest unless disabled; sasl when configured).
    public func hasProvider(_ scheme: String) -> Bool {
        scheme == "ip" || (scheme == "digest" && digestEnabled) || (scheme == "sasl" && saslEnabled)
    }
}

/// Who is asking: a connection's identities (`ip:<address>` first, then what auth packets added)
/// under the server's policy. Every ACL decision is a pure function of this, a node's ACL and
/// the permission the operation needs (as ZooKeeperServer.checkACL).
public struct Access: Sendable, Equatable {
    public var ids: [ZKId]
    public var policy: AuthPolicy

    public init(ids: [ZKId], policy: AuthPolicy = AuthPolicy()) {
        self.ids = ids
        self.policy = policy
    }

    /// No identities at all; open (world) nodes only.
    public static let anonymous = Access(ids: [])

    public static let superId = ZKId(scheme: "super", id: "")

    public var isSuper: Bool { ids.contains { $0.scheme == "super" } }

    /// True when one ACL entry carrying any bit of `perm` matches one of the identities.
    public func allows(_ acl: [ZKACL], _ perm: Int32) -> Bool {
        if policy.skipACL || acl.isEmpty || isSuper { return true }
        for a in acl where a.perms & perm != 0 {
            if a.id.scheme == "world" && a.id.id == "anyone" { return true }
            guard hasProvider(a.id.scheme) else { continue }
            for mine in ids where mine.scheme == a.id.scheme {
                if Self.matches(scheme: mine.scheme, id: mine.id, expr: a.id.id) { return true }
            }
        }
        return false
    }

    /// The identities an auth packet adds, or nil: AUTHFAILED (the server then closes the connection).
    public func authenticate(scheme: String, data: [UInt8], remoteHost: String) -> [ZKId]? {
        switch scheme {
        case "digest" where policy.digestEnabled:
            let digest = ZKDigest.generate(String(decoding: data, as: UTF8.self))
            let id = ZKId(scheme: "digest", id: digest)
            return digest == policy.superDigest ? [Self.superId, id] : [id]
        case "ip":
            return [ZKId(scheme: "ip", id: remoteHost)]
        default:
            return nil
        }
    }

    /// The identities a completed SASL exchange adds: `sasl:<user>`, and `super` for a
    /// zookeeper.superUser (ZooKeeperServer.processSasl).
    public func saslIdentities(user: String) -> [ZKId] {
        let id = ZKId(scheme: "sasl", id: user)
        return policy.saslSuperUsers.contains(user) ? [id, Self.superId] : [id]
    }

    /// False when the server enforces authentication and this connection holds no identity of an
    /// enforced scheme: its requests are answered SessionClosedRequireAuth (-124) and it is closed.
    public var satisfiesEnforcement: Bool {
        policy.enforcedSchemes.isEmpty || ids.contains { policy.enforcedSchemes.contains($0.scheme) }
    }

    /// Adds identities once each, keeping their order (ServerCnxn.addAuthInfo).
    public mutating func add(_ new: [ZKId]) {
        for id in new where !ids.contains(id) { ids.append(id) }
    }

    /// The ACL a create or setACL stores, or nil: InvalidACL. Duplicates go, `auth` becomes every
    /// authenticated (non-ip) identity of the caller, other ids must be valid for their scheme.
    public func fixup(_ acl: [ZKACL]) -> [ZKACL]? {
        var unique: [ZKACL] = []
        for a in acl where !unique.contains(a) { unique.append(a) }
        if unique.isEmpty { return nil }
        var out: [ZKACL] = []
        for a in unique {
            if a.id.scheme == "world" && a.id.id == "anyone" {
                out.append(a)
            } else if a.id.scheme == "auth" {
                let mine = listed.filter { isAuthenticatedScheme($0.scheme) }
                if mine.isEmpty { return nil }
                out.append(contentsOf: mine.map { ZKACL(perms: a.perms, id: $0) })
            } else {
                guard isValid(a.id) else { return nil }
                out.append(a)
            }
        }
        return out
    }

    /// whoAmI: one ClientInfo (authScheme, user) per identity, the user as the scheme's provider
    /// names it (digest: the part before ':'; no provider, as for super: empty).
    public var clientInfo: [ZKId] {
        listed.map { id -> ZKId in
            switch id.scheme {
            case "digest" where policy.digestEnabled:
                return ZKId(scheme: id.scheme, id: String(Self.javaSplit(id.id, ":").first ?? ""))
            case "ip":
                return id
            case "sasl" where policy.saslEnabled:
                return id
            default:
                return ZKId(scheme: id.scheme, id: "")
            }
        }
    }

    /// getACL without ADMIN: digest hashes are hidden ("user:x").
    public static func masked(_ acl: [ZKACL]) -> [ZKACL] {
        acl.map { a in
            guard a.id.scheme == "digest", let colon = a.id.id.firstIndex(of: ":") else { return a }
            var m = a
            m.id.id = String(a.id.id[..<colon]) + ":x"
            return m
        }
    }

    /// The identities in the order ZooKeeper lists them: its connections keep them in a
    /// ConcurrentHashMap-backed set, so whoAmI and `auth` expansion follow Id.hashCode buckets
    /// (table of 16, doubled at three quarters full; insertion order within a bucket).
    public var listed: [ZKId] {
        var table = 16
        while ids.count >= table - table / 4 { table *= 2 }
        let mask = UInt32(table - 1)
        return ids.enumerated().sorted { a, b in
            let (ba, bb) = (Self.spread(a.element) & mask, Self.spread(b.element) & mask)
            return ba != bb ? ba < bb : a.offset < b.offset
        }.map(\.element)
    }

    /// Jute's Id.hashCode (17, then 37 * h + String.hashCode per field), spread as ConcurrentHashMap does.
    static func spread(_ id: ZKId) -> UInt32 {
        func javaHash(_ s: String) -> UInt32 { s.utf16.reduce(0) { $0 &* 31 &+ UInt32($1) } }
        let h = (17 &* 37 &+ javaHash(id.scheme)) &* 37 &+ javaHash(id.id)
        return (h ^ (h >> 16)) & 0x7fff_ffff
    }

    // MARK: providers (ip and digest, as registered by default in ZooKeeper)

    private func hasProvider(_ scheme: String) -> Bool { policy.hasProvider(scheme) }

    private func isAuthenticatedScheme(_ scheme: String) -> Bool {
        (scheme == "digest" && policy.digestEnabled) || (scheme == "sasl" && policy.saslEnabled)
    }

    private func isValid(_ id: ZKId) -> Bool {
        switch id.scheme {
        case "digest": policy.digestEnabled && Self.javaSplit(id.id, ":").count == 2
        case "ip": Self.ipRule(id.id) != nil
        case "sasl": policy.saslEnabled && Self.isKerberosName(id.id)
        default: false
        }
    }

    /// SASLAuthenticationProvider.isValid: the id parses as a Kerberos name
    /// `primary[/instance][@REALM]` (a plain user name does).
    static func isKerberosName(_ s: String) -> Bool {
        let at = s.split(separator: "@", omittingEmptySubsequences: false)
        guard !s.isEmpty, at.count <= 2, !at[0].isEmpty, at.count == 1 || !at[1].contains("/") else { return false }
        let slash = at[0].split(separator: "/", omittingEmptySubsequences: false)
        return slash.count <= 2 && slash.allSatisfy { !$0.isEmpty }
    }

    static func matches(scheme: String, id: String, expr: String) -> Bool {
        switch scheme {
        case "digest":
            return id == expr
        case "sasl":
            // SASLAuthenticationProvider.matches: a SASL user named "super" matches every sasl entry.
            return id == expr || id == "super"
        case "ip":
            guard let (net, bits) = ipRule(expr), let addr = ipv4(id) else { return false }
            return mask(addr, bits) == mask(net, bits)
        default:
            return false
        }
    }

    /// "a.b.c.d" or "a.b.c.d/bits" (IPv4 only, as ZooKeeper 3.8's IPAuthenticationProvider).
    static func ipRule(_ expr: String) -> (UInt32, Int)? {
        let parts = expr.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addr = ipv4(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return (addr, 32) }
        guard let bits = Int(parts[1]), (0...32).contains(bits) else { return nil }
        return (addr, bits)
    }

    static func ipv4(_ s: String) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard let b = Int(p), (0...255).contains(b) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return v
    }

    private static func mask(_ a: UInt32, _ bits: Int) -> UInt32 {
        bits == 0 ? 0 : a & (UInt32.max << UInt32(32 - bits))
    }

    /// String.split as Java does it: trailing empty parts dropped.
    static func javaSplit(_ s: String, _ sep: Character) -> [Substring] {
        var parts = s.split(separator: sep, omittingEmptySubsequences: false)
        while parts.last?.isEmpty == true { parts.removeLast() }
        return parts
    }
}
