import Foundation
import Storage
import Synchronization
import Testing
import Transport
@testable import CoordServer

@Suite struct GroupCommitThreadTests {
    /// Jobs submitted one by one while a (slow) fsync runs join one batch, and the thread does
    /// exactly one fsync per batch: no wake per job, no fsync of a batch that took nothing.
    @Test func oneFsyncPerBatchNoneForEmptyWakes() throws {
        let fs = FaultInjectingFileSystem(MemoryFileSystem())
        try fs.makeDirectories("/log")
        let log = TxnLog(fs: fs, directory: "/log")
        _ = try log.recover(after: 0)
        let loop = EventLoop(name: "gct-test")
        loop.startThread()
        defer { loop.stop() }
        let thread = GroupCommitThread<Int64>(name: "gct-test-log", loop: loop, log: log, snapshots: SnapshotStore(fs: fs, directory: "/log"),
                                              failure: "test log", logger: { _ in })
        thread.setSlowSync(ms: 5)
        let completed = Atomic<Int>(0)
        // Only the commit thread touches the log once started (as in QuorumStorage).
        nonisolated(unsafe) let threadLog = log
        thread.start(write: { z in try threadLog.append(zxid: z, bytes: [1, 2, 3]) },
                     completed: { b in completed.add(b.ops.count, ordering: .relaxed) })
        let jobs = 300
        for z in 1...jobs {
            thread.submit(Int64(z))
            if z % 50 == 0 { usleep(2000) }
        }
        // Time for any surplus wakes to show before the thread is stopped.
        usleep(50_000)
        let stats = try #require(thread.stop())
        #expect(stats.jobs == jobs)
        #expect(stats.batches < jobs / 10, "jobs did not batch: \(stats.batches) batches")
        // Every batch syncs once, and closing the log once more (the first roll had no file yet).
        #expect(fs.fileSyncs.load(ordering: .relaxed) == stats.batches + 1, "\(fs.fileSyncs.load(ordering: .relaxed)) fsyncs for \(stats.batches) batches")
        let deadline = Date().addingTimeInterval(10)
        while completed.load(ordering: .relaxed) < jobs && Date() < deadline { usleep(1000) }
        #expect(completed.load(ordering: .relaxed) == jobs)
    }
}
