/// A path (or child name) compared and hashed as its UTF-8 bytes. Swift's String equality is
/// Unicode canonical equivalence, so "/café" in NFC and in NFD would be one key; ZooKeeper
/// compares Java strings by code unit and keeps two nodes. Same size as a String, and making one
/// from a String copies nothing.
public struct ZKPathKey: Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let string: String

    @inlinable public init(_ string: String) { self.string = string }
    @inlinable public init(stringLiteral value: String) { self.string = value }

    public var description: String { string }

    @inlinable public static func == (a: ZKPathKey, b: ZKPathKey) -> Bool {
        let (ua, ub) = (a.string.utf8, b.string.utf8)
        guard ua.count == ub.count else { return false }
        let fast = ua.withContiguousStorageIfAvailable { pa in
            ub.withContiguousStorageIfAvailable { pb in
                for i in 0..<pa.count where pa[i] != pb[i] { return false }
                return true
            }
        }
        if let fast, let result = fast { return result }
        return ua.elementsEqual(ub)
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        let u = string.utf8
        let done: Void? = u.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil { for b in u { hasher.combine(b) } }
    }

    /// Byte order (the order getChildren lists names in).
    @inlinable public static func < (a: ZKPathKey, b: ZKPathKey) -> Bool {
        a.string.utf8.lexicographicallyPrecedes(b.string.utf8)
    }

    /// Byte prefix (Java's String.startsWith, unlike String.hasPrefix which compares characters).
    @inlinable public func hasBytePrefix(_ prefix: String) -> Bool {
        string.utf8.starts(with: prefix.utf8)
    }
}
