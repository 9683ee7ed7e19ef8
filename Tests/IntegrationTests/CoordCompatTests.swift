import Foundation
import Testing

/// Real ZooKeeper clients against coordd: Python kazoo and Apache's zkCli.sh.
@Suite(.serialized, .ownThreads) struct CoordCompatTests {
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

    @Test(.timeLimit(.minutes(2))) func kazooClientWorks() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/kazoo_compat.py"
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, String(c.port)], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0, "kazoo script failed:\n\(r.stdout)\n\(r.stderr)\n--- coordd:\n\(c.proc?.stderrText ?? "")")
        #expect(r.stdout.contains("OK"))
    }

    func cli(_ port: Int, _ args: [String]) throws -> (status: Int32, out: String) {
        let r = try ProcessHarness.run(Self.zkCli, ["-server", "127.0.0.1:\(port)"] + args, timeout: 60)
        #expect(!r.timedOut, "zkCli \(args) timed out")
        return (r.status, r.stdout + r.stderr)
    }

    @Test(.timeLimit(.minutes(3)), .enabled(if: FileManager.default.isExecutableFile(atPath: zkCli)))
    func zkCliOneShotCommands() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        #expect(try cli(c.port, ["create", "/x", "data"]).out.contains("Created /x"))
        #expect(try cli(c.port, ["get", "/x"]).out.contains("\ndata\n"))
        let ls = try cli(c.port, ["ls", "/"]).out
        #expect(ls.contains("[x, zookeeper]"), "ls: \(ls)")
        _ = try cli(c.port, ["set", "/x", "other"])
        let stat = try cli(c.port, ["stat", "/x"]).out
        #expect(stat.contains("dataVersion = 1") && stat.contains("dataLength = 5"), "stat: \(stat)")
        #expect(try cli(c.port, ["get", "/x"]).out.contains("\nother\n"))
        #expect(try cli(c.port, ["create", "/x", "again"]).out.contains("Node already exists"))
        #expect(try cli(c.port, ["create", "-s", "/x/q-", ""]).out.contains("Created /x/q-0000000000"))
        #expect(try cli(c.port, ["delete", "/x"]).out.contains("Node not empty: /x"))
        _ = try cli(c.port, ["deleteall", "/x"])
        #expect(try cli(c.port, ["ls", "/"]).out.contains("[zookeeper]"))
        #expect(try cli(c.port, ["get", "/x"]).out.contains("Node does not exist"))
    }
}
