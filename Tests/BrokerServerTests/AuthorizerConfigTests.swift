@testable import BrokerServer
import Testing

@Suite struct AuthorizerConfigTests {
    let base = "broker.id=1\nzookeeper.connect=127.0.0.1:2181\nlog.dirs=/tmp/x\nlisteners=PLAINTEXT://:9092\n"

    func refuses(_ extra: String, mentioning word: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try BrokerConfig.parse(base + extra)
            Issue.record("accepted: \(extra)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func noAuthorizerByDefault() throws {
        #expect(try BrokerConfig.parse(base).security.authorizer == nil)
    }

    @Test func aclAuthorizerWithSuperUsersAndAllowEveryone() throws {
        let c = try BrokerConfig.parse(base + """
            authorizer.class.name=kafka.security.authorizer.AclAuthorizer
            super.users=User:admin; User:broker
            allow.everyone.if.no.acl.found=true

            """)
        let a = try #require(c.security.authorizer)
        #expect(a.superUsers == ["User:admin", "User:broker"])
        #expect(a.allowEveryoneIfNoAclFound)
    }

    @Test func legacySimpleAclAuthorizerAccepted() throws {
        let c = try BrokerConfig.parse(base + "authorizer.class.name=kafka.security.auth.SimpleAclAuthorizer\n")
        #expect(c.security.authorizer?.className == AuthorizerConfig.legacySimpleAclAuthorizer)
        #expect(c.security.authorizer?.allowEveryoneIfNoAclFound == false)
    }

    @Test func refusesOtherAuthorizersAndOrphanSettings() {
        refuses("authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n", mentioning: "not supported")
        refuses("authorizer.class.name=com.example.Custom\n", mentioning: "kafka.security.authorizer.AclAuthorizer")
        refuses("super.users=User:admin\n", mentioning: "authorizer.class.name")
        refuses("allow.everyone.if.no.acl.found=true\n", mentioning: "authorizer.class.name")
        refuses("authorizer.class.name=kafka.security.authorizer.AclAuthorizer\nallow.everyone.if.no.acl.found=maybe\n", mentioning: "true or false")
        refuses("authorizer.class.name=kafka.security.authorizer.AclAuthorizer\nsuper.users=admin\n", mentioning: "User:<name>")
        refuses("authorizer.class.name=kafka.security.authorizer.AclAuthorizer\nauthorizer.foo=1\n", mentioning: "authorizer.foo")
    }
}

@Suite struct RequestAccessTests {
    @Test func beforeTheFirstLoadOnlySuperUsersPass() {
        let cfg = AuthorizerConfig(className: AuthorizerConfig.aclAuthorizer, superUsers: ["User:admin"], allowEveryoneIfNoAclFound: true)
        let store = AclStore(config: cfg, logger: Logger(prefix: "test "))
        let bob = RequestAccess(api: .produce, principal: "User:bob", host: "10.0.0.1", store: store)
        let admin = RequestAccess(api: .produce, principal: "User:admin", host: "10.0.0.1", store: store)
        #expect(!bob.allows(.topic, "t"), "allow.everyone must not open the broker before the ACLs are read")
        #expect(admin.allows(.topic, "t"))
    }

    @Test func noAuthorizerAllowsEverything() {
        let open = RequestAccess(api: .deleteTopics, principal: "User:ANONYMOUS", host: "h", store: nil)
        #expect(open.allows(.topic, "t") && open.allowsCluster() && open.allowsAny(.topic) && !open.enabled)
    }

    @Test func hostOfPeer() {
        #expect(RequestAccess.host(ofPeer: "10.0.0.7:51234") == "10.0.0.7")
        #expect(RequestAccess.host(ofPeer: "::1:9092") == "::1")
        #expect(RequestAccess.host(ofPeer: "[fe80::1]:9092") == "fe80::1")
    }
}
