/// Where and how Kafka's ZK-mode AclAuthorizer keeps ACLs in ZooKeeper:
///   literal  `/kafka-acl/<ResourceType>/<name>`
///   prefixed `/kafka-acl-extended/prefixed/<ResourceType>/<name>`
/// each `{"version":1,"acls":[{"principal":…,"permissionType":"Allow","operation":"Read","host":"*"}]}`,
/// and a sequential change node per modified resource: `/kafka-acl-changes/acl_changes_N` holding
/// `TOPIC:<name>` for literal ones, `/kafka-acl-extended-changes/acl_changes_N` holding
/// `{"version":1,"resourceType":"TOPIC","name":…,"patternType":"PREFIXED"}` for the others.
public enum AclZnodes {
    public static let literalRoot = "/kafka-acl"
    public static let extendedRoot = "/kafka-acl-extended"
    public static let prefixedRoot = "/kafka-acl-extended/prefixed"
    public static let literalChanges = "/kafka-acl-changes"
    public static let extendedChanges = "/kafka-acl-extended-changes"
    public static let changePrefix = "acl_changes_"
    /// A broker never reads more change nodes than this in one pass; older ones are pruned.
    public static let maxChangeNodes = 1000
    /// Bounds on one resource znode's JSON (hostile or corrupt data must not blow memory).
    public static let maxEntriesPerResource = 10_000
    public static let maxPayloadBytes = 1 << 20

    public static let persistentParents = [literalRoot, extendedRoot, prefixedRoot, literalChanges, extendedChanges]
        + storableTypes.flatMap { ["\(literalRoot)/\($0.zkName)", "\(prefixedRoot)/\($0.zkName)"] }

    public static let storableTypes: [AclResourceType] = [.topic, .group, .cluster, .transactionalId, .delegationToken]

    public static func root(_ p: AclPatternType) -> String? {
        switch p {
        case .literal: return literalRoot
        case .prefixed: return prefixedRoot
        default: return nil
        }
    }

    public static func typePath(_ t: AclResourceType, _ p: AclPatternType) -> String? { root(p).map { "\($0)/\(t.zkName)" } }

    public static func path(_ r: ResourcePattern) -> String? { typePath(r.resourceType, r.patternType).map { "\($0)/\(r.name)" } }

    /// The change-node directory and the node's payload for a modified resource.
    public static func changeNotification(_ r: ResourcePattern) -> (dir: String, data: [UInt8]) {
        // Kafka writes the Java enum name ("TOPIC:orders"); older brokers wrote "Topic:orders" (both parse).
        if r.patternType == .literal { return (literalChanges, Array("\(r.resourceType.zkName.uppercasedSnake):\(r.name)".utf8)) }
        let j = JSON.object([("version", .int(1)), ("resourceType", .string(r.resourceType.zkName.uppercasedSnake)),
                             ("name", .string(r.name)), ("patternType", .string(r.patternType.name))])
        return (extendedChanges, j.encodedBytes())
    }

    /// Which resource a change node names; nil for garbage.
    public static func parseChange(dir: String, _ data: [UInt8]) -> ResourcePattern? {
        guard data.count <= 64 * 1024 else { return nil }
        if dir == literalChanges {
            let s = String(decoding: data, as: UTF8.self)
            guard let colon = s.firstIndex(of: ":"), let t = AclResourceType(name: String(s[..<colon])), t.isStorable else { return nil }
            return ResourcePattern(t, String(s[s.index(after: colon)...]), .literal)
        }
        guard let j = try? JSON.parse(data), j["version"]?.intValue == 1, let tn = j["resourceType"]?.stringValue,
              let t = AclResourceType(name: tn), t.isStorable, let n = j["name"]?.stringValue,
              let pn = j["patternType"]?.stringValue, let p = AclPatternType(name: pn), p.isSpecific else { return nil }
        return ResourcePattern(t, n, p)
    }

    public static func encode(_ entries: Set<AclEntry>) -> [UInt8] {
        let sorted = entries.sorted { [$0.principal, $0.host, $0.operation.zkName, $0.permission.zkName]
            .lexicographicallyPrecedes([$1.principal, $1.host, $1.operation.zkName, $1.permission.zkName]) }
        let acls = sorted.map { e in
            JSON.object([("principal", .string(e.principal)), ("permissionType", .string(e.permission.zkName)),
                         ("operation", .string(e.operation.zkName)), ("host", .string(e.host))])
        }
        return JSON.object([("version", .int(1)), ("acls", .array(acls))]).encodedBytes()
    }

    public enum DecodeError: Error, Equatable { case malformed(String) }

    /// Reads a resource znode; an empty node is no ACLs (Kafka leaves those behind briefly).
    public static func decode(_ data: [UInt8]) throws -> Set<AclEntry> {
        if data.isEmpty { return [] }
        guard data.count <= maxPayloadBytes else { throw DecodeError.malformed("payload of \(data.count) bytes") }
        let j: JSON
        do { j = try JSON.parse(data) } catch { throw DecodeError.malformed("not JSON: \(error)") }
        guard j["version"]?.intValue == 1 else { throw DecodeError.malformed("version is not 1") }
        guard let list = j["acls"]?.arrayValue else { throw DecodeError.malformed("acls is not an array") }
        guard list.count <= maxEntriesPerResource else { throw DecodeError.malformed("\(list.count) entries") }
        var out: Set<AclEntry> = []
        for a in list {
            guard let pr = a["principal"]?.stringValue, let h = a["host"]?.stringValue,
                  let o = a["operation"]?.stringValue.flatMap(AclOperation.init(name:)), o.isSpecific,
                  let p = a["permissionType"]?.stringValue.flatMap(AclPermission.init(name:)), p == .allow || p == .deny else {
                throw DecodeError.malformed("entry \(a.encoded())")
            }
            out.insert(AclEntry(principal: pr, host: h, operation: o, permission: p))
        }
        return out
    }
}

extension String {
    /// "TransactionalId" -> "TRANSACTIONAL_ID" (Java enum names, as Kafka writes them in change events).
    var uppercasedSnake: String {
        var out = ""
        for (i, c) in self.enumerated() {
            if i > 0 && c.isUppercase { out.append("_") }
            out += c.uppercased()
        }
        return out
    }
}
