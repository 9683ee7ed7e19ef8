import Protocol
import Testing
@testable import CoordCore

/// The `sasl` scheme as ZooKeeper 3.8's SASLAuthenticationProvider decides it.
@Suite struct SaslACLTests {
    static func acl(_ perms: Int32, _ scheme: String, _ id: String) -> ZKACL { ZKACL(perms: perms, id: ZKId(scheme: scheme, id: id)) }
    static let sasl = AuthPolicy(saslEnabled: true, saslSuperUsers: ["admin"])
    static func cnx(_ ids: [ZKId], _ policy: AuthPolicy = sasl) -> Access {
        Access(ids: [ZKId(scheme: "ip", id: "127.0.0.1")] + ids, policy: policy)
    }

    @Test func saslEntriesMatchOnlyTheirUser() {
        let bobOnly = [Self.acl(ZKPerms.all, "sasl", "bob")]
        var bob = Self.cnx([])
        bob.add(bob.saslIdentities(user: "bob"))
        #expect(bob.allows(bobOnly, ZKPerms.read))
        #expect(!Self.cnx([]).allows(bobOnly, ZKPerms.read))
        #expect(!Self.cnx(Self.cnx([]).saslIdentities(user: "eve")).allows(bobOnly, ZKPerms.read))
        // A SASL user literally named "super" matches every sasl entry, as in ZooKeeper.
        #expect(Self.cnx([ZKId(scheme: "sasl", id: "super")]).allows(bobOnly, ZKPerms.write))
        // Without the provider the same identity matches nothing.
        #expect(!Self.cnx([ZKId(scheme: "sasl", id: "bob")], AuthPolicy()).allows(bobOnly, ZKPerms.read))
    }

    @Test func superUsersGetTheSuperIdentity() {
        let admin = Self.cnx([]).saslIdentities(user: "admin")
        #expect(admin == [ZKId(scheme: "sasl", id: "admin"), Access.superId])
        #expect(Self.cnx(admin).allows([Self.acl(ZKPerms.read, "digest", "x:y")], ZKPerms.admin))
        #expect(Self.cnx([]).saslIdentities(user: "bob") == [ZKId(scheme: "sasl", id: "bob")])
    }

    @Test func authSchemeAndValidity() {
        let bob = Self.cnx([ZKId(scheme: "sasl", id: "bob")])
        #expect(bob.fixup([Self.acl(ZKPerms.all, "auth", "")]) == [Self.acl(ZKPerms.all, "sasl", "bob")])
        #expect(Self.cnx([]).fixup([Self.acl(ZKPerms.all, "auth", "")]) == nil)
        #expect(bob.fixup([Self.acl(ZKPerms.read, "sasl", "client/host@EXAMPLE.COM")]) != nil)
        #expect(bob.fixup([Self.acl(ZKPerms.read, "sasl", "")]) == nil)
        #expect(bob.fixup([Self.acl(ZKPerms.read, "sasl", "a@b@c")]) == nil)
        #expect(Self.cnx([], AuthPolicy()).fixup([Self.acl(ZKPerms.read, "sasl", "bob")]) == nil, "InvalidACL without the provider")
        #expect(bob.clientInfo.contains(ZKId(scheme: "sasl", id: "bob")))
    }

    @Test func enforcementNeedsAnIdentityOfAnEnforcedScheme() {
        var p = Self.sasl
        p.enforcedSchemes = ["sasl"]
        #expect(!Self.cnx([], p).satisfiesEnforcement)
        #expect(!Self.cnx([ZKId(scheme: "digest", id: "a:b")], p).satisfiesEnforcement)
        #expect(Self.cnx([ZKId(scheme: "sasl", id: "bob")], p).satisfiesEnforcement)
        #expect(Self.cnx([]).satisfiesEnforcement, "not enforced")
    }
}
