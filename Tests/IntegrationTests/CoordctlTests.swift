import CoordClient
import Foundation
import Testing

/// `coordctl txnlog-dump` / `snapshot-dump` on the files a real coordd wrote (issue 15: ZooKeeper's
/// zkTxnLogToolkit / zkSnapShotToolkit for coordd's own formats).
@Suite(.serialized, .ownThreads) struct CoordctlTests {
    @Test func dumpsTheTxnLogAndTheSnapshotCoorddWrote() throws {
        let c = try CoordProcess(extraConfig: "snapCount=4\n")
        defer { c.cleanup() }
        let client = CoordClient(connectString: "127.0.0.1:\(c.port)", sessionTimeoutMs: 6000)
        try client.start()
        for i in 1...9 { _ = try client.create("/n\(i)", data: Array("data\(i)".utf8)) }
        _ = try client.create("/eph", data: Array("x".utf8), mode: .ephemeral)
        _ = try client.setData("/n1", data: Array("new".utf8))
        try client.delete("/n2")
        client.close()
        c.proc?.stop()
        let ctl = try #require(ProcessHarness.binary("coordctl"))
        let dir = c.dir + "/data/version-2"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let logs = files.filter { $0.hasPrefix("log.") }
        #expect(!logs.isEmpty)
        var text = ""
        for l in logs {
            let r = try ProcessHarness.run(ctl, ["txnlog-dump", dir + "/" + l], timeout: 30)
            #expect(r.status == 0, "\(r.stderr)")
            text += r.stdout
        }
        #expect(text.contains("createSession"), "\(text)")
        #expect(text.contains("create '/n3,#6461746133,v{s{31,s{'world,'anyone}}},F,"), "\(text)")
        #expect(text.contains("create '/eph,#78,") && text.contains(",T,"), "ephemeral flag: \(text)")
        #expect(text.contains("setData '/n1,#6e6577,1") && text.contains("delete '/n2"), "\(text)")
        #expect(text.contains("closeSession"), "\(text)")

        let snap = try #require(files.filter { $0.hasPrefix("snapshot.") }.last, "no snapshot with snapCount=4: \(files)")
        let s = try ProcessHarness.run(ctl, ["snapshot-dump", dir + "/" + snap, "-d"], timeout: 30)
        #expect(s.status == 0, "\(s.stderr)")
        #expect(s.stdout.contains("ZNode Details (count=") && s.stdout.contains("\n/n3\n  data = data3\n"), "\(s.stdout)")
        #expect(s.stdout.contains("/zookeeper/config") && s.stdout.contains("Last zxid: 0x"), "\(s.stdout)")

        // A flipped byte mid-file: the dump says where it stopped and exits 1.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/" + logs[0])))
        bytes[40] ^= 0xff
        let bad = c.dir + "/damaged.log"
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        let b = try ProcessHarness.run(ctl, ["txnlog-dump", bad], timeout: 30)
        #expect(b.status == 1 && b.stdout.contains("stopped at offset"), "\(b.status) \(b.stdout)")
        let n = try ProcessHarness.run(ctl, ["snapshot-dump", bad], timeout: 30)
        #expect(n.status == 1 && n.stderr.contains("not a coordd snapshot"), "\(n.stderr)")
        #expect(try ProcessHarness.run(ctl, ["txnlog-dump"], timeout: 30).status == 2)
    }
}
