import CoordClient
import Foundation
import Testing

/// Fault matrix row 13: coordd's txn log and snapshots damaged on disk between a kill -9 and the
/// restart. A torn or zeroed tail is the end of the log; a bad record with data after it stops
/// the start with the file and offset named; a damaged snapshot falls back to an older one.
@Suite(.serialized, .ownThreads) struct CoordDiskMatrixTests {
    static func files(_ root: String, prefix: String) -> [String] {
        let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return names.filter { ($0 as NSString).lastPathComponent.hasPrefix(prefix) }.map { root + "/" + $0 }.sorted {
            // By the zxid in the name (hex), oldest first.
            let z = { (p: String) in UInt64(String((p as NSString).lastPathComponent.split(separator: ".").last ?? ""), radix: 16) ?? 0 }
            return z($0) < z($1)
        }
    }

    /// Writes `n` nodes, kills coordd, applies `damage` to its data, restarts; returns what came up.
    private func crashDamageRestart(n: Int, extraConfig: String = "", _ damage: (String) throws -> Void) throws
        -> (started: Bool, nodes: Set<String>, stderr: String) {
        let c = try CoordProcess(extraConfig: extraConfig)
        defer { c.cleanup() }
        let client = CoordClient(connectString: "127.0.0.1:\(c.port)", sessionTimeoutMs: 6000)
        try client.start()
        for i in 0..<n { _ = try client.create("/n\(i)", data: Array("v\(i)".utf8)) }
        // Killed before the session closes, so the last record in the log is the last create.
        c.proc?.kill9()
        client.close()
        try damage(c.dir + "/data")
        do {
            try c.start()
        } catch {
            return (false, [], "\(error)")
        }
        let again = CoordClient(connectString: "127.0.0.1:\(c.port)", sessionTimeoutMs: 6000)
        try again.start()
        defer { again.close() }
        return (true, Set(try again.getChildren("/")), c.proc?.stderrText ?? "")
    }

    static func all(_ n: Int) -> Set<String> { Set((0..<n).map { "n\($0)" } + ["zookeeper"]) }

    @Test(.timeLimit(.minutes(4))) func row13TornZeroedAndBitFlippedLogsAndSnapshots() throws {
        for run in 1...FaultMatrix.runs {
            // Torn: the last record loses its end.
            let torn = try crashDamageRestart(n: 100) { data in
                let log = try #require(Self.files(data, prefix: "log.").last)
                let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
                try #require(truncate(log, off_t(size - 3)) == 0)
            }
            #expect(torn.started && torn.nodes == Self.all(99), "torn tail: started \(torn.started), \(torn.nodes.count) nodes\n\(torn.stderr)")

            // Zeroed: the tail of the newest file is a block of zeros.
            let zeroed = try crashDamageRestart(n: 100) { data in
                let log = try #require(Self.files(data, prefix: "log.").last)
                let h = try #require(FileHandle(forWritingAtPath: log))
                h.seekToEndOfFile()
                h.write(Data(count: 8192))
                try h.close()
            }
            #expect(zeroed.started && zeroed.nodes == Self.all(100), "zeroed tail: started \(zeroed.started), \(zeroed.nodes.count) nodes\n\(zeroed.stderr)")

            // Bit flip in the middle: refuse to start, naming the file and the offset.
            var flipped = ""
            let flip = try crashDamageRestart(n: 100) { data in
                let log = try #require(Self.files(data, prefix: "log.").last)
                var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: log)))
                bytes[bytes.count / 2] ^= 0x10
                try Data(bytes).write(to: URL(fileURLWithPath: log))
                flipped = (log as NSString).lastPathComponent
            }
            #expect(!flip.started, "coordd started on a log with a bit flipped mid-file; \(flip.nodes.count) nodes")
            #expect(flip.stderr.contains(flipped) && flip.stderr.contains("corrupt at offset"), "\(flip.stderr)")

            // A damaged newest snapshot: the older one plus the log bring everything back.
            let snap = try crashDamageRestart(n: 160, extraConfig: "snapCount=50\n") { data in
                let snaps = Self.files(data, prefix: "snapshot.")
                try #require(snaps.count >= 2, "expected several snapshots: \(snaps)")
                let newest = try #require(snaps.last)
                var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: newest)))
                bytes[bytes.count / 2] ^= 0x01
                try Data(bytes).write(to: URL(fileURLWithPath: newest))
            }
            #expect(snap.started && snap.nodes == Self.all(160), "damaged snapshot: started \(snap.started), \(snap.nodes.count) of 160 nodes\n\(snap.stderr)")
            FaultMatrix.report(13, "coordd-disk-damage", run: run, [
                "torn_nodes": torn.nodes.count - 1, "zeroed_nodes": zeroed.nodes.count - 1, "bitflip_refused": !flip.started,
                "snapshot_fallback_nodes": snap.nodes.count - 1,
            ])
        }
    }
}
