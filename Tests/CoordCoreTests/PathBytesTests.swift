import Protocol
import Testing
@testable import CoordCore

/// Paths are compared as UTF-8 bytes, as ZooKeeper compares Java strings: "/café" in NFC and in
/// NFD (e + combining acute) are two nodes, though Swift's String calls them equal.
@Suite struct PathBytesTests {
    static let nfc = "/caf\u{E9}"
    static let nfd = "/cafe\u{301}"

    @Test func keyComparesBytes() {
        #expect(Self.nfc == Self.nfd, "Swift String equality is canonical; the point of ZKPathKey")
        #expect(ZKPathKey(Self.nfc) != ZKPathKey(Self.nfd))
        #expect(ZKPathKey(Self.nfc) == ZKPathKey("/caf" + "\u{E9}"))
        #expect(Set([ZKPathKey(Self.nfc), ZKPathKey(Self.nfd)]).count == 2)
        // Byte order: "e" (0x65) sorts before "é" (0xC3 0xA9).
        #expect(ZKPathKey(Self.nfd) < ZKPathKey(Self.nfc))
        #expect(ZKPathKey("/a") < ZKPathKey("/ab") && !(ZKPathKey("/ab") < ZKPathKey("/a")))
        // Long (heap) strings too, not just small inline ones.
        let long = String(repeating: "x", count: 40)
        #expect(ZKPathKey("/" + long + Self.nfc.dropFirst()) != ZKPathKey("/" + long + Self.nfd.dropFirst()))
        #expect(ZKPathKey("/" + long) == ZKPathKey("/" + String(repeating: "x", count: 40)))
    }

    /// getChildren lists byte order on both of its sorting paths (all ASCII, and not).
    @Test func childrenAreListedInByteOrder() {
        let ascii = ["b", "B", "a10", "a9", "_", "a", "~", "0"]
        #expect(DataTree.sortedNames(Set(ascii.map { ZKPathKey($0) })) == ["0", "B", "_", "a", "a10", "a9", "b", "~"])
        // "é" (0xC3 0xA9) after "z"; "e" + combining acute (0x65 0xCC 0x81) after "e" and before "f".
        let mixed = ["z", "caf\u{E9}", "cafe\u{301}", "cafe", "caff", "A"]
        let sorted = DataTree.sortedNames(Set(mixed.map { ZKPathKey($0) }))
        #expect(sorted.map { Array($0.utf8) } == ["A", "cafe", "cafe\u{301}", "caff", "caf\u{E9}", "z"].map { Array($0.utf8) })
    }

    @Test func nfcAndNfdAreTwoNodes() {
        var h = TreeHarness()
        #expect(h.create(Self.nfc, "composed").err == ZKErr.ok)
        #expect(h.create(Self.nfd, "decomposed").err == ZKErr.ok)
        #expect(h.create(Self.nfd).err == ZKErr.nodeExists)
        guard case .children(let names) = h.read(.getChildren(path: "/", watch: false)).response else { Issue.record("ls"); return }
        #expect(names.count == 3)
        #expect(names.contains { $0.utf8.elementsEqual("caf\u{E9}".utf8) } && names.contains { $0.utf8.elementsEqual("cafe\u{301}".utf8) })
        #expect(h.read(.getData(path: Self.nfd, watch: false)).response == .data(Array("decomposed".utf8), h.stat(Self.nfd)!))
        #expect(h.read(.getData(path: Self.nfc, watch: false)).response == .data(Array("composed".utf8), h.stat(Self.nfc)!))
        // Children of each are their own.
        #expect(h.create(Self.nfd + "/x").err == ZKErr.ok)
        #expect(h.read(.getChildren(path: Self.nfc, watch: false)).response == .children([]))
        #expect(h.write(.delete(path: Self.nfd + "/x", version: -1)).err == ZKErr.ok)
        // Each deletable alone; the snapshot keeps both.
        let back = try? DataTree(snapshot: h.tree.serializeSnapshot())
        #expect(back?.node(Self.nfc)?.data == Array("composed".utf8) && back?.node(Self.nfd)?.data == Array("decomposed".utf8))
        #expect(h.write(.delete(path: Self.nfc, version: -1)).err == ZKErr.ok)
        #expect(h.read(.exists(path: Self.nfd, watch: false)).err == ZKErr.ok)
        #expect(h.read(.exists(path: Self.nfc, watch: false)).err == ZKErr.noNode)
        #expect(h.write(.delete(path: Self.nfd, version: -1)).err == ZKErr.ok)
        #expect(h.read(.getChildren(path: "/", watch: false)).response == .children(["zookeeper"]))
    }

    @Test func watchesAndEphemeralsKeyOnBytes() {
        var h = TreeHarness()
        _ = h.create(Self.nfc)
        _ = h.read(.getData(path: Self.nfc, watch: true), watcher: 7)
        _ = h.read(.exists(path: Self.nfd, watch: true), watcher: 8)
        // Writing the NFD node fires only the NFD watch.
        #expect(h.create(Self.nfd, flags: ZKCreateFlags.ephemeral).err == ZKErr.ok)
        let ev = h.takeEvents().filter { $0.event.type == ZKEventType.nodeCreated }
        #expect(ev.count == 1 && ev.first?.watcher == 8)
        #expect(h.tree.ephemerals[h.session]?.contains(ZKPathKey(Self.nfd)) == true)
        #expect(h.tree.ephemerals[h.session]?.contains(ZKPathKey(Self.nfc)) == false)
        // getEphemerals matches prefixes by bytes: the NFC prefix does not cover the NFD node.
        #expect(h.read(.getEphemerals(prefix: Self.nfc)).response == .paths([]))
        guard case .paths(let mine) = h.read(.getEphemerals(prefix: "/cafe")).response else { Issue.record("eph"); return }
        #expect(mine.count == 1 && mine[0].utf8.elementsEqual(Self.nfd.utf8))
    }
}
