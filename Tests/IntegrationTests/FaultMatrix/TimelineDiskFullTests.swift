import Foundation
@testable import Observability
import Synchronization
import Testing

/// Row 17's side effect on the timeline: `timeline.jsonl` lives in a data dir, so a full disk
/// cuts its writes short. A torn line must not swallow the events written after space returns.
@Suite(.serialized) struct TimelineDiskFullTests {
    @Test(.timeLimit(.minutes(1)), .enabled(if: Tmpfs.canRun, Comment(rawValue: Tmpfs.skipReason)))
    func shortWriteOnAFullDiskLeavesNoTornLine() throws {
        let dir = try ProcessHarness.makeTempDir("timeline-full")
        defer { ProcessHarness.removeDir(dir) }
        let disk = try Tmpfs(at: dir + "/mnt", bytes: 64 << 10)
        defer { disk.unmount() }
        let messages = Mutex<[String]>([])
        let file = TimelineFile(directory: disk.path, maxBytes: 1 << 20) { m in messages.withLock { $0.append(m) } }
        let event = { (i: Int) in
            TimelineEvent(seq: UInt64(i), time: Int64(i), daemon: "test", kind: "k", fields: [("pad", .string(String(repeating: "x", count: 300)))])
        }
        file.append([event(0)])
        disk.fill(slack: 1000)  // room for a few lines, then a short one
        var i = 1
        while messages.withLock({ $0.isEmpty }) && i < 200 {
            file.append([event(i)])
            i += 1
        }
        #expect(messages.withLock { $0.contains { $0.contains("No space left on device") } }, "\(messages.withLock { $0 })")
        disk.removeFiller()
        file.append([event(1000)])
        let loaded = file.load(last: 10_000)
        #expect(loaded.last?.seq == 1000, "the event after space returned was lost: \(loaded.map(\.seq).suffix(5))")
        #expect(!messages.withLock { $0.contains { $0.contains("unreadable") } }, "torn lines: \(messages.withLock { $0 })")
    }
}
