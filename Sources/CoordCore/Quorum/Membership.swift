import Protocol

/// A voting configuration carried by a committed transaction (ZooKeeper 3.5's `reconfig`): the
/// txn's bytes begin with a marker no application txn starts with, then the membership, then the
/// application's own payload (coordd: the `/zookeeper/config` update). The quorum core reads the
/// membership; the application sees only `payload`.
public struct QuorumMembership: Hashable, Sendable {
    public var voters: [UInt64]
    public var observers: [UInt64]

    public init(voters: [UInt64], observers: [UInt64] = []) {
        self.voters = voters.sorted()
        self.observers = observers.sorted()
    }

    /// CoordTxn starts with its format version (1); this byte keeps the two apart.
    static let marker: UInt8 = 0xC7
    /// Bounds what a hostile or corrupt entry can make us allocate.
    public static let maxMembers = 255

    public func txnData(payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + 8 * (voters.count + observers.count) + payload.count)
        w.writeUInt8(Self.marker)
        w.writeUInt16(UInt16(voters.count))
        for v in voters { w.writeUInt64(v) }
        w.writeUInt16(UInt16(observers.count))
        for o in observers { w.writeUInt64(o) }
        w.writeBytes(payload)
        return w.bytes
    }

    /// The membership and application payload of a reconfig txn; nil for any other txn.
    public static func decode(txnData data: [UInt8]) -> (membership: QuorumMembership, payload: [UInt8])? {
        guard data.first == marker else { return nil }
        var r = ByteReader(data)
        do {
            _ = try r.readUInt8()
            func ids() throws -> [UInt64] {
                let n = Int(try r.readUInt16())
                guard n <= maxMembers else { throw DecodeError.invalidValue("too many members") }
                return try (0..<n).map { _ in try r.readUInt64() }
            }
            let voters = try ids()
            let observers = try ids()
            let payload = try r.readBytes(r.remaining)
            return (QuorumMembership(voters: voters, observers: observers), payload)
        } catch {
            return nil
        }
    }

    /// Usable as a configuration: some voters, nobody listed twice.
    public var isValid: Bool {
        !voters.isEmpty && voters.count + observers.count <= Self.maxMembers
            && Set(voters).count == voters.count && Set(observers).count == observers.count
            && Set(voters).isDisjoint(with: observers)
    }

    public func contains(_ id: UInt64) -> Bool { voters.contains(id) || observers.contains(id) }
    var quorumSize: Int { voters.count / 2 + 1 }
}

extension QuorumConfig {
    public var membership: QuorumMembership { QuorumMembership(voters: voters, observers: observers) }
}
