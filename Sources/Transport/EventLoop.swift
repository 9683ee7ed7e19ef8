#if canImport(Glibc)
import CLinux
import Glibc
#endif
import Synchronization

/// Something registered with the loop for readiness events on a file descriptor.
public protocol FDHandler: AnyObject {
    func handleEvents(readable: Bool, writable: Bool, hangup: Bool)
}

/// Handle for a scheduled timer; cancel it with `EventLoop.cancel`.
public struct TimerHandle: Hashable, Sendable {
    let id: UInt64
}

/// A single-threaded epoll loop. Everything registered with it runs on its thread; other threads hand
/// it work with `execute`, which wakes it through an eventfd. Writes queued during one iteration are
/// flushed together at its end, so many small responses leave in one syscall.
public final class EventLoop: @unchecked Sendable {
    private let epfd: Int32
    private let wakeFD: Int32
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private var handlers: [Int32: FDHandler] = [:]
    private var timers = TimerHeap()
    private var cancelledTimers: Set<UInt64> = []
    private var nextTimerID: UInt64 = 1
    private var dirty: [ObjectIdentifier: Flushable] = [:]
    private let stopped = Atomic<Bool>(false)
    private let loopThread = Atomic<UInt>(0)
    public let name: String
    /// The one read buffer of every connection on this loop: a read's bytes live only for its `onRead`
    /// callback, so an idle connection holds no read buffer (only its protocol's partial frame).
    let readBuffer: UnsafeMutableRawBufferPointer
    public static let readBufferSize = 256 * 1024

    public init(name: String = "loop") {
        self.name = name
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epfd >= 0, "epoll_create1 failed: \(errno)")
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(wakeFD >= 0, "eventfd failed: \(errno)")
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue
        ev.data.fd = wakeFD
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &ev)
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit {
        Glibc.close(epfd)
        Glibc.close(wakeFD)
        readBuffer.deallocate()
    }

    public var inLoopThread: Bool { loopThread.load(ordering: .relaxed) == UInt(bitPattern: Int(bitPattern: pthread_self())) }

    /// Runs `task` on the loop thread (safe from any thread).
    public func execute(_ task: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Starts the loop on a new thread.
    public func startThread() {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        var tid = pthread_t()
        let ctx = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&tid, &attr, { raw in
            let loop = Unmanaged<EventLoop>.fromOpaque(raw!).takeRetainedValue()
            // Named for `top -H`, /proc/PID/task/*/comm and the benchmarks (15 bytes at most).
            _ = pthread_setname_np(pthread_self(), String(decoding: loop.name.utf8.prefix(15), as: UTF8.self))
            loop.run()
            return nil
        }, ctx)
        pthread_detach(tid)
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        execute {}
    }

    // MARK: registration (loop thread only)

    public func register(fd: Int32, handler: FDHandler, readable: Bool = true, writable: Bool = false) {
        handlers[fd] = handler
        var ev = epoll_event()
        ev.events = Self.mask(readable: readable, writable: writable)
        ev.data.fd = fd
        if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0 {
            _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
        }
    }

    public func modify(fd: Int32, readable: Bool, writable: Bool, hangup: Bool = true) {
        var ev = epoll_event()
        ev.events = Self.mask(readable: readable, writable: writable, hangup: hangup)
        ev.data.fd = fd
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
    }

    public func unregister(fd: Int32) {
        handlers[fd] = nil
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    private static func mask(readable: Bool, writable: Bool, hangup: Bool = true) -> UInt32 {
        var m = hangup ? EPOLLRDHUP.rawValue : 0
        if readable { m |= EPOLLIN.rawValue }
        if writable { m |= EPOLLOUT.rawValue }
        return m
    }

    // MARK: timers (loop thread only)

    @discardableResult
    public func schedule(afterMillis ms: Int, _ task: @escaping () -> Void) -> TimerHandle {
        let id = nextTimerID
        nextTimerID += 1
        timers.push(TimerEntry(deadline: MonotonicClock.millis() + UInt64(max(0, ms)), id: id, task: task))
        return TimerHandle(id: id)
    }

    public func cancel(_ handle: TimerHandle) {
        cancelledTimers.insert(handle.id)
    }

    /// Marks a connection to be flushed at the end of this iteration.
    func markDirty(_ f: Flushable) {
        dirty[ObjectIdentifier(f)] = f
    }

    // MARK: the loop

    public func run() {
        loopThread.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .relaxed)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !stopped.load(ordering: .relaxed) {
            let timeout = nextTimeout()
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epfd, $0.baseAddress, 256, timeout) }
            if n < 0 && errno != EINTR { break }
            if n > 0 {
                for i in 0..<Int(n) {
                    let ev = events[i]
                    let fd = ev.data.fd
                    if fd == wakeFD {
                        var v: UInt64 = 0
                        _ = Glibc.read(wakeFD, &v, 8)
                        continue
                    }
                    guard let h = handlers[fd] else { continue }
                    let e = ev.events
                    h.handleEvents(
                        readable: e & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0,
                        writable: e & EPOLLOUT.rawValue != 0,
                        hangup: e & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0)
                }
            }
            runInbox()
            runTimers()
            flushDirty()
        }
    }

    private func runInbox() {
        let tasks = inbox.withLock { q -> [@Sendable () -> Void] in
            let t = q
            q.removeAll(keepingCapacity: true)
            return t
        }
        for t in tasks { t() }
    }

    private func runTimers() {
        let now = MonotonicClock.millis()
        while let top = timers.peek(), top.deadline <= now {
            _ = timers.pop()
            if cancelledTimers.remove(top.id) != nil { continue }
            top.task()
        }
    }

    private func flushDirty() {
        // Flushing can mark more connections dirty (callbacks); loop until quiet.
        var rounds = 0
        while !dirty.isEmpty && rounds < 4 {
            let batch = dirty
            dirty.removeAll(keepingCapacity: true)
            for (_, f) in batch { f.flush() }
            rounds += 1
        }
    }

    private func nextTimeout() -> Int32 {
        if !dirty.isEmpty { return 0 }
        if inbox.withLock({ !$0.isEmpty }) { return 0 }
        guard let top = timers.peek() else { return 1000 }
        let now = MonotonicClock.millis()
        if top.deadline <= now { return 0 }
        return Int32(min(1000, top.deadline - now))
    }
}

protocol Flushable: AnyObject {
    func flush()
}

public enum MonotonicClock {
    public static func millis() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }

    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

public enum WallClock {
    public static func millis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

struct TimerEntry {
    let deadline: UInt64
    let id: UInt64
    let task: () -> Void
}

/// Binary min-heap on (deadline, id).
struct TimerHeap {
    private var items: [TimerEntry] = []

    func peek() -> TimerEntry? { items.first }

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].deadline < items[b].deadline || (items[a].deadline == items[b].deadline && items[a].id < items[b].id)
    }

    mutating func push(_ e: TimerEntry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if less(i, p) { items.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> TimerEntry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && less(l, m) { m = l }
            if r < items.count && less(r, m) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
