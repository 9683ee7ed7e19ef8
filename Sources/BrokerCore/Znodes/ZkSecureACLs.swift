import Protocol

/// The ACLs Kafka gives its znodes (ZkData.defaultAcls): with zookeeper.set.acl=true, the creator
/// (`auth`, which the server turns into the broker's SASL identity) gets everything and the world
/// may read — except under the sensitive roots (SCRAM credentials, broker configs, delegation
/// tokens), which the creator alone may read. The old consumers path stays open.
public enum ZkSecureACLs {
    public static let sensitiveRoots = ["/config/users", "/config/brokers", "/delegation_token"]
    public static let consumersPath = "/consumers"

    public static let creatorAll = ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "auth", id: ""))
    public static let worldRead = ZKACL(perms: ZKPerms.read, id: ZKId(scheme: "world", id: "anyone"))

    /// Kafka checks a plain string prefix (so "/config/usersX" counts as sensitive too).
    public static func isSensitive(_ path: String) -> Bool { sensitiveRoots.contains { path.hasPrefix($0) } }

    public static func acls(secure: Bool, path: String) -> [ZKACL] {
        guard secure, path != consumersPath else { return ZKACL.openUnsafe }
        return isSensitive(path) ? [creatorAll] : [creatorAll, worldRead]
    }
}
