import Crypto
@testable import Console
import Testing

@Suite struct ConsoleConfigTests {
    @Test func defaultsAreReadOnlyOnLoopback() throws {
        let c = try ConsoleConfig.parse("bootstrap.servers=127.0.0.1:9092\n")
        #expect(c.listenHost == "127.0.0.1" && c.listenPort == 8080)
        #expect(c.readOnly)
        #expect(c.zookeeperConnect == nil)
        #expect(!c.allowsWrite(token: nil) && !c.allowsWrite(token: "anything"))
    }

    @Test func fullConfig() throws {
        let c = try ConsoleConfig.parse("""
        # comment
        listener=0.0.0.0:9000
        bootstrap.servers=a:1,b:2
        zookeeper.connect=z1:2181,z2:2181/kafka
        read.only=false
        admin.token=0123456789abcdef-secret
        admin.endpoints=127.0.0.1:8081, 127.0.0.1:8082
        """)
        #expect(c.listenHost == "0.0.0.0" && c.listenPort == 9000)
        #expect(c.bootstrapServers == ["a:1", "b:2"])
        #expect(c.zookeeperConnect == "z1:2181,z2:2181/kafka")
        #expect(c.adminEndpoints.map(\.description) == ["127.0.0.1:8081", "127.0.0.1:8082"])
        #expect(c.allowsWrite(token: "0123456789abcdef-secret"))
        #expect(!c.allowsWrite(token: "0123456789abcdef-secreT"))
        #expect(!c.allowsWrite(token: "0123456789abcdef-secret2"))
        #expect(!c.allowsWrite(token: nil))
    }

    @Test(arguments: [
        ("", "bootstrap.servers is required"),
        ("bootstrap.servers=a:1\nreadonly=false", "unknown key 'readonly'"),
        ("bootstrap.servers=a:1\nread.only=flase", "neither true nor false"),
        ("bootstrap.servers=a:1\nread.only=false", "needs admin.token"),
        ("bootstrap.servers=a:1\nread.only=false\nadmin.token=short", "at least 16"),
        ("bootstrap.servers=a\n", "bootstrap.servers"),
        ("bootstrap.servers=a:1\nlistener=nowhere", "listener"),
        ("bootstrap.servers=a:1\nzookeeper.connect=z", "zookeeper.connect"),
        ("bootstrap.servers=a:1\nadmin.endpoints=x", "admin.endpoints"),
        ("bootstrap.servers=a:1\njust a line", "expected key=value"),
    ])
    func badConfigIsRefusedWithAReason(_ text: String, _ reason: String) {
        do {
            _ = try ConsoleConfig.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func constantTimeCompare() {
        #expect(Digests.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!Digests.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!Digests.constantTimeEqual(Array("abc".utf8), Array("ab".utf8)))
        #expect(!Digests.constantTimeEqual([], Array("a".utf8)))
    }
}
