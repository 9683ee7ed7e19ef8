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
