import CoordCore
import Foundation
import Protocol

/// Text forms of transactions and snapshots, close to ZooKeeper's TxnLogToolkit and
/// SnapshotFormatter output, so an operator reading both sees the same fields.
enum TxnFormat {
    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }
    static func hex(_ v: Int32) -> String { "0x" + String(UInt32(bitPattern: v), radix: 16) }

    static func time(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "M/d/yy, h:mm:ss.SSS a 'UTC'"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func line(zxid: Int64, txn: CoordTxn) -> String {
        "\(time(txn.time)) session \(hex(txn.sessionId)) cxid \(hex(txn.cxid)) zxid \(hex(zxid)) \(op(txn.op))"
    }

    static func data(_ d: [UInt8]?) -> String {
        guard let d else { return "null" }
        return "#" + d.map { String(format: "%02x", $0) }.joined()
    }

    static func acl(_ a: [ZKACL]) -> String {
        "v{" + a.map { "s{\($0.perms),s{'\($0.id.scheme),'\($0.id.id)}}" }.joined(separator: ",") + "}"
    }

    static func op(_ op: CoordTxnOp) -> String {
        switch op {
        case .createSession(let timeout, _): return "createSession \(timeout)"
        case .closeSession: return "closeSession"
        case let .create(requestOp, path, d, a, owner, parentCVersion):
            // ZooKeeper's form: path, data, ACL, ephemeral flag, parent cversion.
            let kind = requestOp == ZKOp.createContainer ? "createContainer" : ZNode.isTTLOwner(owner) ? "createTTL" : "create"
            let ephemeral = owner != 0 && !ZNode.isTTLOwner(owner) && owner != ZNode.containerOwner
            return "\(kind) '\(path),\(data(d)),\(acl(a)),\(ephemeral ? "T" : "F"),\(parentCVersion)"
        case .delete(let path): return "delete '\(path)"
        case let .setData(path, d, version): return "setData '\(path),\(data(d)),\(version)"
        case let .setACL(path, a, version): return "setACL '\(path),\(acl(a)),\(version)"
        case let .check(path, version): return "check '\(path),\(version)"
        case .multi(let ops): return "multi v{" + ops.map { "s{\(self.op($0))}" }.joined(separator: ",") + "}"
        case .error(let code): return "error \(code)"
        }
    }

    static func snapshot(_ tree: DataTree, zxid: Int64, withData: Bool) -> String {
        var out = "coordd snapshot at zxid \(hex(zxid))\nZNode Details (count=\(tree.nodeCount)):\n"
        for key in tree.nodes.keys.sorted() {
            guard let n = tree.nodes[key] else { continue }
            let s = n.stat
            out += "----\n\(key.string)\n"
            if withData { out += "  data = \(n.data.map { String(decoding: $0, as: UTF8.self) } ?? "null")\n" }
            out += "  cZxid = \(hex(s.czxid))\n  ctime = \(time(s.ctime))\n  mZxid = \(hex(s.mzxid))\n  mtime = \(time(s.mtime))\n"
            out += "  pZxid = \(hex(s.pzxid))\n  cversion = \(s.cversion)\n  dataVersion = \(s.version)\n  aclVersion = \(s.aversion)\n"
            out += "  ephemeralOwner = \(hex(s.ephemeralOwner))\n  dataLength = \(s.dataLength)\n  numChildren = \(s.numChildren)\n"
        }
        out += "----\nSession Details (sid, timeout, ephemeralCount):\n"
        for (sid, info) in tree.sessions.sorted(by: { $0.key < $1.key }) {
            out += "\(hex(sid)), \(info.timeout), \(tree.ephemerals[sid]?.count ?? 0)\n"
        }
        out += "----\nLast zxid: \(hex(tree.lastZxid))\n"
        return out
    }
}
