import CoordClient
import Foundation
import KafkaClient
import Protocol
import Synchronization
import Transport

/// The ZooKeeper side: the znode browser (through CoordClient) and each server's four-letter words.
final class CoordQueries: @unchecked Sendable {
    let connect: String
    private let servers: [HostPort]
    private let client = Mutex<CoordClient?>(nil)
    private let timeoutMs: Int
    private let tls: TLSContext?
    private let sasl: CoordSaslLogin?

    /// With `tls`, the session and the four-letter words go over TLS (coordd's secureClientPort).
    init(connect: String, timeoutMs: Int, tls: TLSContext? = nil, sasl: CoordSaslLogin? = nil) {
        self.connect = connect
        self.timeoutMs = timeoutMs
        self.tls = tls
        self.sasl = sasl
        let hosts = connect.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        servers = hosts.split(separator: ",").compactMap { HostPort(String($0)) }
    }

    func close() { client.withLock { $0?.close(); $0 = nil } }

    /// A session opened on first use and reopened after it expires.
    private func session() throws -> CoordClient {
        try client.withLock { c in
            if let c, c.isConnected { return c }
            c?.close()
            let fresh = CoordClient(connectString: connect, sessionTimeoutMs: 10_000, tls: tls, sasl: sasl)
            try fresh.start(timeoutMs: timeoutMs)
            c = fresh
            return fresh
        }
    }

    func znode(_ path: String) throws -> ZnodeView {
        guard Self.validPath(path) else { throw CoordError(ZKErr.badArguments, path: path) }
        let c = try session()
        let (data, stat) = try c.getData(path)
        let children = try c.getChildren(path).sorted()
        let acl = (try? c.getACL(path))?.acl ?? []
        return ZnodeView(path: path, children: children, data: Data(data).base64EncodedString(), stat: Self.stat(stat),
                         acl: acl.map { ZnodeACL(perms: Summaries.perms($0.perms), scheme: $0.id.scheme, id: $0.id.id) })
    }

    static func validPath(_ p: String) -> Bool {
        p == "/" || (p.hasPrefix("/") && !p.hasSuffix("/") && !p.contains("//") && !p.split(separator: "/").contains { $0 == "." || $0 == ".." })
    }

    static func stat(_ s: ZKStat) -> ZnodeStat {
        ZnodeStat(czxid: Summaries.hex(s.czxid), mzxid: Summaries.hex(s.mzxid), pzxid: Summaries.hex(s.pzxid), ctime: s.ctime, mtime: s.mtime,
                  version: s.version, cversion: s.cversion, aversion: s.aversion, ephemeralOwner: Summaries.hex(s.ephemeralOwner),
                  dataLength: s.dataLength, numChildren: s.numChildren)
    }

    /// `srvr` and `mntr` from every server, in parallel (a dead server costs one connect timeout, not one each).
    func servers4lw() -> [CoordServerRow] {
        let rows = Mutex<[Int: CoordServerRow]>([:])
        DispatchQueue.concurrentPerform(iterations: servers.count) { i in
            let s = servers[i]
            var err: String?
            let srvr = Self.fourLetter("srvr", s, tls, &err)
            let mntr = err == nil ? Self.fourLetter("mntr", s, tls, &err) : nil
            let row = Summaries.coordRow(address: s.description, srvr: srvr, mntr: mntr, error: srvr == nil ? err : nil)
            rows.withLock { $0[i] = row }
        }
        return rows.withLock { r in (0..<servers.count).compactMap { r[$0] } }
    }

    static func fourLetter(_ word: String, _ s: HostPort, _ tls: TLSContext?, _ err: inout String?) -> String? {
        do {
            let sock = try BlockingSocket(host: s.host, port: s.port, connectTimeoutMillis: 500, ioTimeoutMillis: 1000)
            defer { sock.close() }
            if let tls { try sock.startTLS(tls, serverName: s.host, timeoutMillis: 1000) }
            try sock.sendAll(Array(word.utf8))
            return String(decoding: try sock.readToEnd(limit: 64 << 10), as: UTF8.self)
        } catch {
            err = "\(error)"
            return nil
        }
    }
}
