import Foundation
import Testing

/// Runs each test of a suite on threads of its own instead of Swift's cooperative pool.
/// These tests block (processes, sockets, sleeps) for tens of seconds; on a 2-core machine the pool has
/// two threads, so two such tests would starve every other test in the process, whose time limits then
/// expire before their bodies even run.
struct OwnThreads: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OwnThreads {
    static var ownThreads: Self { OwnThreads() }
}

/// A task executor that starts a thread for every job: jobs here are slices of blocking tests, few and
/// long, so a thread each costs nothing that matters and no job ever waits for another.
final class ThreadPerJobExecutor: TaskExecutor {
    static let shared = ThreadPerJobExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let t = Thread { job.runSynchronously(on: executor) }
        t.stackSize = 8 << 20
        t.start()
    }
}

/// Background work of a blocking test, on a thread of its own: dispatch's global queue shares the
/// cooperative pool's few threads with CPU-bound unit tests, and work queued there waited seconds.
func onOwnThread(group: DispatchGroup? = nil, _ body: @escaping @Sendable () -> Void) {
    group?.enter()
    Thread.detachNewThread {
        body()
        group?.leave()
    }
}
