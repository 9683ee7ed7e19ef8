import Protocol

/// One `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]` entry, as
/// zoo.cfg and ZooKeeper's dynamic configuration write it.
public struct EnsembleServer: Equatable, Sendable {
    public var id: UInt64
    public var host: String
    public var peerPort: Int
    public var electionPort: Int
    /// "participant" or "observer".
    public var role: String
    public var clientHost: String?
    public var clientPort: Int?

    public var isObserver: Bool { role == "observer" }

    public init(id: UInt64, host: String, peerPort: Int, electionPort: Int, role: String, clientHost: String?, clientPort: Int?) {
        self.id = id
        self.host = host
        self.peerPort = peerPort
        self.electionPort = electionPort
        self.role = role
        self.clientHost = clientHost
        self.clientPort = clientPort
    }

    /// Parses the text after `server.N=`; the error says what is wrong, for the operator.
    public init(id: UInt64, spec value: String) throws(EnsembleConfigError) {
        let halves = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        let parts = halves[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts.count <= 4, !parts[0].isEmpty, let pp = Int(parts[1]), let ep = Int(parts[2]),
              (1...65535).contains(pp), (1...65535).contains(ep) else {
            throw EnsembleConfigError("server.\(id): expected host:peerPort:electionPort, got '\(value)'")
        }
        self.id = id
        host = parts[0]
        peerPort = pp
        electionPort = ep
        role = parts.count > 3 ? parts[3] : "participant"
        guard role == "participant" || role == "observer" else { throw EnsembleConfigError("server.\(id): unknown role '\(role)'") }
        if halves.count == 2 {
            let client = String(halves[1])
            if let colon = client.lastIndex(of: ":") {
                clientHost = String(client[..<colon])
                clientPort = Int(client[client.index(after: colon)...])
            } else {
                clientPort = Int(client)
            }
            guard let p = clientPort, (1...65535).contains(p) else { throw EnsembleConfigError("server.\(id): bad client port in '\(value)'") }
        }
    }

    /// ZooKeeper's normal form: the role always, the client address with its host.
    public var spec: String {
        var s = "\(host):\(peerPort):\(electionPort):\(role)"
        if let p = clientPort { s += ";\(clientHost ?? "0.0.0.0"):\(p)" }
        return s
    }
}

public struct EnsembleConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The ensemble's membership as `/zookeeper/config` holds it: `server.N=` lines, then
/// `version=` (hex zxid of the reconfig that made it; 0 for the configuration zoo.cfg gave).
/// Reconfig requests are applied here; the quorum core sees the ids only (`membership`).
public struct EnsembleConfig: Equatable, Sendable {
    public var servers: [UInt64: EnsembleServer]
    public var version: Zxid

    public init(servers: [UInt64: EnsembleServer], version: Zxid = .zero) {
        self.servers = servers
        self.version = version
    }

    /// Bounds a hostile request or a corrupt node.
    public static let maxServers = QuorumMembership.maxMembers

    public init(text: String) throws(EnsembleConfigError) {
        var servers: [UInt64: EnsembleServer] = [:]
        var version = Zxid.zero
        for line in text.split(whereSeparator: { $0 == "\n" }) {
            let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw EnsembleConfigError("bad configuration line '\(line)'") }
            if kv[0] == "version" {
                guard let raw = UInt64(kv[1], radix: 16) else { throw EnsembleConfigError("bad version '\(kv[1])'") }
                version = Zxid(raw: raw)
            } else {
                let s = try Self.server(kv[0], kv[1])
                servers[s.id] = s
            }
        }
        guard servers.count <= Self.maxServers else { throw EnsembleConfigError("more than \(Self.maxServers) servers") }
        self.init(servers: servers, version: version)
    }

    static func server(_ key: String, _ value: String) throws(EnsembleConfigError) -> EnsembleServer {
        guard key.hasPrefix("server."), let id = UInt64(key.dropFirst(7)) else { throw EnsembleConfigError("expected server.N=..., got '\(key)'") }
        return try EnsembleServer(id: id, spec: value)
    }

    /// What `/zookeeper/config` shows; the version line is last, without a newline (clients
    /// split it off that way).
    public var text: String {
        let lines = servers.keys.sorted().map { "server.\($0)=\(servers[$0]!.spec)" }
        return (lines + ["version=" + String(version.raw, radix: 16)]).joined(separator: "\n")
    }

    public var membership: QuorumMembership {
        QuorumMembership(voters: servers.values.filter { !$0.isObserver }.map(\.id),
                         observers: servers.values.filter(\.isObserver).map(\.id))
    }

    /// ZooKeeper's reconfig: incremental (`joining` servers added or changed, `leaving` ids
    /// removed) or, with `newMembers`, the whole list replaced. Lists are comma separated.
    /// Anything malformed, or a change that changes nothing, is BadArguments.
    public func applying(joining: String?, leaving: String?, newMembers: String?) throws(EnsembleConfigError) -> EnsembleConfig {
        func specs(_ list: String) throws(EnsembleConfigError) -> [EnsembleServer] {
            var out: [EnsembleServer] = []
            for item in list.split(separator: ",") {
                let kv = item.trimmingSpaces.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw EnsembleConfigError("expected server.N=..., got '\(item)'") }
                out.append(try Self.server(kv[0], kv[1]))
            }
            return out
        }
        var next = self
        if let members = newMembers.flatMap({ $0.isEmpty ? nil : $0 }) {
            guard (joining ?? "").isEmpty, (leaving ?? "").isEmpty else {
                throw EnsembleConfigError("give either joining/leaving or new members, not both")
            }
            next.servers = [:]
            for s in try specs(members) { next.servers[s.id] = s }
        } else {
            for s in try specs(joining ?? "") { next.servers[s.id] = s }
            for item in (leaving ?? "").split(separator: ",") {
                guard let id = UInt64(item.trimmingSpaces) else { throw EnsembleConfigError("leaving: bad server id '\(item)'") }
                next.servers[id] = nil
            }
        }
        guard next.servers != servers else { throw EnsembleConfigError("the change changes nothing") }
        guard next.servers.count <= Self.maxServers, next.membership.isValid else {
            throw EnsembleConfigError("the new configuration has no voters")
        }
        return next
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
