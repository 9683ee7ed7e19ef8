import BrokerCore
import Protocol
import Testing

/// Kafka's znode ACLs with zookeeper.set.acl (ZkData.defaultAcls).
@Suite struct ZkSecureACLsTests {
    @Test func creatorAllPlusWorldReadExceptSensitivePaths() {
        #expect(ZkSecureACLs.acls(secure: false, path: "/config/users") == ZKACL.openUnsafe)
        #expect(ZkSecureACLs.acls(secure: true, path: "/brokers/ids/1") == [ZkSecureACLs.creatorAll, ZkSecureACLs.worldRead])
        #expect(ZkSecureACLs.creatorAll == ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "auth", id: "")))
        for p in ["/config/users", "/config/users/alice", "/config/brokers/1", "/delegation_token/tokens/x"] {
            #expect(ZkSecureACLs.acls(secure: true, path: p) == [ZkSecureACLs.creatorAll], "\(p)")
        }
        #expect(ZkSecureACLs.acls(secure: true, path: "/config/topics/t") == [ZkSecureACLs.creatorAll, ZkSecureACLs.worldRead])
        #expect(ZkSecureACLs.acls(secure: true, path: "/consumers") == ZKACL.openUnsafe)
    }
}
