import Protocol
import Testing
@testable import CoordCore

/// ACL decisions and digest ids, checked against ZooKeeper 3.8's rules (ZooKeeperServer.checkACL,
/// PrepRequestProcessor.fixupACL, FinalRequestProcessor) and vectors computed with Python hashlib.
@Suite struct ACLTests {
    static let world = ZKId(scheme: "world", id: "anyone")
    static func acl(_ perms: Int32, _ scheme: String, _ id: String) -> ZKACL { ZKACL(perms: perms, id: ZKId(scheme: scheme, id: id)) }
    static let alice = Access(ids: [ZKId(scheme: "ip", id: "127.0.0.1"), ZKId(scheme: "digest", id: ZKDigest.generate("alice:pw"))])
    static let anon = Access(ids: [ZKId(scheme: "ip", id: "127.0.0.1")])

    @Test func digestMatchesGenerateDigest() {
        // python3: user + ":" + base64(sha1(b"user:password"))
        #expect(ZKDigest.generate("super:test") == "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
        #expect(ZKDigest.generate("user:pass") == "user:smGaoVKd/cQkjm7b88GyorAUz20=")
        #expect(ZKDigest.generate("bob:") == "bob:tK1fpNO1hB0F++FhHpSq0Fa4tv0=")
        #expect(ZKDigest.generate("a:b:c") == "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=")
        #expect(ZKDigest.generate("x") == "x:EfatjsUqKYSrqv18O1FlA3hcIHI=")
        #expect(ZKDigest.sha1([]) == hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"))
        // Two blocks of padding.
        #expect(ZKDigest.sha1(Array(repeating: UInt8(ascii: "a"), count: 100)) == hex("7f9000257a4918d7072655ea468540cdcbd42e0c"))
        #expect(ZKDigest.base64([1]) == "AQ==" && ZKDigest.base64([1, 2]) == "AQI=" && ZKDigest.base64([1, 2, 3]) == "AQID")
    }

    func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    @Test func permissionNeedsOneMatchingEntryWithTheBit() {
        let digestRead = [Self.acl(ZKPerms.read, "digest", ZKDigest.generate("alice:pw"))]
        #expect(Self.alice.allows(digestRead, ZKPerms.read))
        #expect(!Self.alice.allows(digestRead, ZKPerms.write))
        #expect(!Self.anon.allows(digestRead, ZKPerms.read))
        // getACL asks for READ or ADMIN: either bit is enough.
        #expect(Self.alice.allows(digestRead, ZKPerms.read | ZKPerms.admin))
        #expect(Self.anon.allows(ZKACL.openUnsafe, ZKPerms.all))
        #expect(!Self.anon.allows([Self.acl(ZKPerms.read, "world", "anyone")], ZKPerms.write))
        // An empty ACL lets everyone in (checkACL returns early).
        #expect(Self.anon.allows([], ZKPerms.admin))
        // world with another id, or a scheme without a provider, matches nobody.
        #expect(!Self.anon.allows([Self.acl(ZKPerms.all, "world", "someone")], ZKPerms.read))
        #expect(!Access(ids: [ZKId(scheme: "sasl", id: "bob")]).allows([Self.acl(ZKPerms.all, "sasl", "bob")], ZKPerms.read))
    }

    @Test func superAndSkipACLPassEverything() {
        let locked = [Self.acl(ZKPerms.read, "digest", "nobody:x")]
        var su = Self.anon
        su.add([Access.superId])
        #expect(su.allows(locked, ZKPerms.admin))
        #expect(Access(ids: [], policy: AuthPolicy(skipACL: true)).allows(locked, ZKPerms.delete))
        #expect(!Self.anon.allows(locked, ZKPerms.read))
    }

    @Test func ipRulesWithCIDR() {
        let local = Access(ids: [ZKId(scheme: "ip", id: "10.1.2.3")])
        #expect(local.allows([Self.acl(ZKPerms.read, "ip", "10.0.0.0/8")], ZKPerms.read))
        #expect(local.allows([Self.acl(ZKPerms.read, "ip", "10.1.2.3")], ZKPerms.read))
        #expect(!local.allows([Self.acl(ZKPerms.read, "ip", "10.1.2.4")], ZKPerms.read))
        #expect(!local.allows([Self.acl(ZKPerms.read, "ip", "11.0.0.0/8")], ZKPerms.read))
        #expect(local.allows([Self.acl(ZKPerms.read, "ip", "0.0.0.0/0")], ZKPerms.read))
        #expect(local.allows([Self.acl(ZKPerms.read, "ip", "10.1.2.0/23")], ZKPerms.read))
        #expect(!local.allows([Self.acl(ZKPerms.read, "ip", "10.1.4.0/23")], ZKPerms.read))
        // ZooKeeper 3.8 parses IPv4 only: an IPv6 client never matches, an IPv6 rule is invalid.
        #expect(!Access(ids: [ZKId(scheme: "ip", id: "::1")]).allows([Self.acl(ZKPerms.read, "ip", "0.0.0.0/0")], ZKPerms.read))
        #expect(Self.anon.fixup([Self.acl(ZKPerms.read, "ip", "::1")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.read, "ip", "10.0.0.0/33")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.read, "ip", "10.0.0/8")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.read, "ip", "10.0.0.0/8")]) != nil)
    }

    @Test func fixupExpandsAuthAndRejectsInvalid() {
        let auth = Self.acl(ZKPerms.all, "auth", "")
        // The ip identity is not "authenticated": auth needs a digest (or other) identity.
        #expect(Self.anon.fixup([auth]) == nil)
        #expect(Self.alice.fixup([auth]) == [Self.acl(ZKPerms.all, "digest", ZKDigest.generate("alice:pw"))])
        #expect(Self.anon.fixup([]) == nil)
        #expect(Self.anon.fixup(ZKACL.openUnsafe + ZKACL.openUnsafe) == ZKACL.openUnsafe)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "world", "nobody")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "super", "")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "bogus", "x")]) == nil)
        // digest ids are "user:hash" (Java split: trailing empties dropped).
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "digest", "user")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "digest", "user:")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "digest", "a:b:c")]) == nil)
        #expect(Self.anon.fixup([Self.acl(ZKPerms.all, "digest", "a:b:")]) != nil)
        #expect(Access(ids: [], policy: AuthPolicy(digestEnabled: false)).fixup([Self.acl(ZKPerms.all, "digest", "a:b")]) == nil)
    }

    @Test func authenticationSchemes() {
        let policy = AuthPolicy(superDigest: ZKDigest.generate("super:test"))
        let a = Access(ids: [], policy: policy)
        #expect(a.authenticate(scheme: "digest", data: Array("alice:pw".utf8), remoteHost: "h") == [ZKId(scheme: "digest", id: ZKDigest.generate("alice:pw"))])
        #expect(a.authenticate(scheme: "digest", data: Array("super:test".utf8), remoteHost: "h")?.first == Access.superId)
        #expect(a.authenticate(scheme: "digest", data: Array("super:wrong".utf8), remoteHost: "h")?.contains(Access.superId) == false)
        #expect(a.authenticate(scheme: "ip", data: [], remoteHost: "10.0.0.1") == [ZKId(scheme: "ip", id: "10.0.0.1")])
        #expect(a.authenticate(scheme: "bogus", data: [], remoteHost: "h") == nil)
        #expect(a.authenticate(scheme: "world", data: [], remoteHost: "h") == nil)
        #expect(Access(ids: [], policy: AuthPolicy(digestEnabled: false)).authenticate(scheme: "digest", data: [], remoteHost: "h") == nil)
        var b = Self.anon
        b.add([ZKId(scheme: "ip", id: "127.0.0.1"), ZKId(scheme: "digest", id: "u:h")])
        #expect(b.ids.count == 2)
        #expect(b.clientInfo == [ZKId(scheme: "digest", id: "u"), ZKId(scheme: "ip", id: "127.0.0.1")])
        // Listed in ZooKeeper's hash order, whatever order they were added in (seen from ZooKeeper 3.8.0).
        var c = Access(ids: [ZKId(scheme: "ip", id: "127.0.0.1")], policy: policy)
        c.add(a.authenticate(scheme: "digest", data: Array("alice:pw".utf8), remoteHost: "h")!)
        c.add(a.authenticate(scheme: "digest", data: Array("super:test".utf8), remoteHost: "h")!)
        #expect(c.clientInfo.map { "\($0.scheme):\($0.id)" } == ["super:", "ip:127.0.0.1", "digest:alice", "digest:super"])
    }

    @Test func getACLHidesDigestsWithoutAdmin() {
        var h = TreeHarness()
        let acl = [Self.acl(ZKPerms.read, "world", "anyone"), Self.acl(ZKPerms.all, "digest", ZKDigest.generate("alice:pw"))]
        #expect(h.write(.create(ZKCreate(path: "/n", acl: acl)), as: Self.alice).err == ZKErr.ok)
        #expect(h.read(.getACL(path: "/n"), as: Self.alice).response == .acl(acl, h.stat("/n")!))
        let masked = [acl[0], Self.acl(ZKPerms.all, "digest", "alice:x")]
        #expect(h.read(.getACL(path: "/n"), as: Self.anon).response == .acl(masked, h.stat("/n")!))
        #expect(h.write(.create(ZKCreate(path: "/w", acl: [Self.acl(ZKPerms.write, "world", "anyone")]))).err == ZKErr.ok)
        #expect(h.read(.getACL(path: "/w"), as: Self.anon).err == ZKErr.noAuth)
        #expect(h.read(.getACL(path: "/missing"), as: Self.anon).err == ZKErr.noNode)
    }

    @Test func readsNeedRead() {
        var h = TreeHarness()
        let mine = [Self.acl(ZKPerms.all, "digest", ZKDigest.generate("alice:pw"))]
        #expect(h.write(.create(ZKCreate(path: "/p", data: [1], acl: mine)), as: Self.alice).err == ZKErr.ok)
        for req: ZKRequest in [.getData(path: "/p", watch: false), .getChildren(path: "/p", watch: false),
                               .getChildren2(path: "/p", watch: false), .getAllChildrenNumber(path: "/p")] {
            #expect(h.read(req, as: Self.anon).err == ZKErr.noAuth, "\(req)")
            #expect(h.read(req, as: Self.alice).err == ZKErr.ok, "\(req)")
        }
        // exists is not checked in ZooKeeper 3.8.0.
        #expect(h.read(.exists(path: "/p", watch: false), as: Self.anon).err == ZKErr.ok)
        #expect(h.read(.exists(path: "/p/none", watch: false), as: Self.anon).err == ZKErr.noNode)
        #expect(h.read(.multiRead([.getData(path: "/", watch: false), .getData(path: "/p", watch: false)]), as: Self.anon).response
            == .multi([.getData([], h.stat("/")!), .error(ZKErr.noAuth)]))
    }

    @Test func writesCheckTheRightNodeAndPermission() {
        var h = TreeHarness()
        let d = ZKDigest.generate("alice:pw")
        // Parent allows anyone to create but only alice to delete children.
        let parentACL = [Self.acl(ZKPerms.create | ZKPerms.read, "world", "anyone"), Self.acl(ZKPerms.all, "digest", d)]
        #expect(h.write(.create(ZKCreate(path: "/p", acl: parentACL)), as: Self.alice).err == ZKErr.ok)
        #expect(h.write(.create(ZKCreate(path: "/p/c"))).err == ZKErr.ok)
        #expect(h.write(.delete(path: "/p/c", version: -1)).err == ZKErr.noAuth)
        // NoAuth on the parent comes before NoNode of the child.
        #expect(h.write(.delete(path: "/p/none", version: -1)).err == ZKErr.noAuth)
        #expect(h.write(.delete(path: "/p/c", version: -1), as: Self.alice).err == ZKErr.ok)
        // setData needs WRITE on the node itself, setACL ADMIN, check READ.
        #expect(h.write(.setData(path: "/p", data: [1], version: -1)).err == ZKErr.noAuth)
        #expect(h.write(.setACL(path: "/p", acl: ZKACL.openUnsafe, version: -1)).err == ZKErr.noAuth)
        #expect(h.write(.check(path: "/p", version: 0)).err == ZKErr.ok)
        let hidden = [Self.acl(ZKPerms.all, "digest", d)]
        #expect(h.write(.create(ZKCreate(path: "/h", acl: hidden)), as: Self.alice).err == ZKErr.ok)
        #expect(h.write(.check(path: "/h", version: 0)).err == ZKErr.noAuth)
        #expect(h.write(.create(ZKCreate(path: "/h/c"))).err == ZKErr.noAuth)
        // InvalidACL is decided before the parent is looked up (fixupACL runs first).
        #expect(h.write(.create(ZKCreate(path: "/none/c", acl: []))).err == ZKErr.invalidACL)
        #expect(h.write(.create(ZKCreate(path: "/none/c"))).err == ZKErr.noNode)
        #expect(h.write(.setACL(path: "/h", acl: [Self.acl(ZKPerms.all, "auth", "")], version: -1), as: Self.alice).err == ZKErr.ok)
        #expect(h.tree.node("/h")?.acl == hidden)
    }

    @Test func pendingNodesAreCheckedWithTheirPendingACL() {
        var h = TreeHarness()
        // A multi creates a locked node and then a child under it in one go: the child is refused.
        let locked = [Self.acl(ZKPerms.read, "world", "anyone")]
        let r = h.write(.multi([.create(ZKCreate(path: "/a", acl: locked)), .create(ZKCreate(path: "/a/b")), .create(ZKCreate(path: "/c"))]))
        #expect(r.response == .multi([.error(ZKErr.ok), .error(ZKErr.noAuth), .error(ZKErr.runtimeInconsistency)]))
        #expect(h.stat("/a") == nil && h.stat("/c") == nil)
    }

    @Test func reservedNodes() {
        var h = TreeHarness()
        for p in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
            #expect(h.write(.delete(path: p, version: -1)).err == ZKErr.badArguments, "\(p)")
        }
        #expect(h.write(.setData(path: "/zookeeper/config", data: [1], version: -1)).err == ZKErr.noAuth)
        #expect(h.write(.setACL(path: "/zookeeper/config", acl: ZKACL.openUnsafe, version: -1)).err == ZKErr.noAuth)
        #expect(h.read(.getData(path: "/zookeeper/config", watch: false)).err == ZKErr.ok)
        let su = Access(ids: [Access.superId])
        #expect(h.write(.setData(path: "/zookeeper/config", data: [1], version: -1), as: su).err == ZKErr.ok)
        // Super cannot delete them either: BadArguments comes first.
        #expect(h.write(.delete(path: "/zookeeper/quota", version: -1), as: su).err == ZKErr.badArguments)
    }

    /// ZooKeeper drops repeated entries (same perms and id) before expanding `auth`, keeping the
    /// first of each in order; entries differing only in perms stay (kazoo test_create_acl_duplicate).
    @Test func duplicateEntriesAreDroppedOnCreateAndSetACL() {
        var h = TreeHarness()
        let open = ZKACL.openUnsafe[0]
        let readOnly = Self.acl(ZKPerms.read, "world", "anyone")
        #expect(h.write(.create(ZKCreate(path: "/d", acl: [open, open, readOnly, open]))).err == ZKErr.ok)
        #expect(h.tree.node("/d")?.acl == [open, readOnly])
        let ip = Self.acl(ZKPerms.all, "ip", "10.0.0.0/8")
        #expect(h.write(.setACL(path: "/d", acl: [ip, open, ip, ip], version: -1)).err == ZKErr.ok)
        #expect(h.tree.node("/d")?.acl == [ip, open])
        guard case .acl(let got, _) = h.read(.getACL(path: "/d")).response else { Issue.record("getACL"); return }
        #expect(got == [ip, open])
    }
}
