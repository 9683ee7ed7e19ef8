import Crypto
import Foundation
import Spawn
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Fault controls for study (issue 10): `POST /faults/<name>?…` on a daemon's admin server injects
/// one fault, `GET /faults` lists what is on, `POST /faults/clear` heals everything. Off unless the
/// daemon's config says `faults.enable=true`; then only loopback peers may use them, or — when
/// `faults.token` is set — whoever sends it in `X-Fault-Token`. Every fault is a timeline event.
public final class FaultPlane: Sendable {
    /// One thing that can be broken. `apply` gets the query and answers what it did (or throws).
    public struct Action: Sendable {
        public let name: String
        public let help: String
        public let apply: @Sendable ([String: String]) throws(FaultError) -> String
        public init(_ name: String, help: String, apply: @escaping @Sendable ([String: String]) throws(FaultError) -> String) {
            self.name = name
            self.help = help
            self.apply = apply
        }
    }

    public struct FaultError: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ d: String) { description = d }
    }

    let enabled: Bool
    let token: [UInt8]?
    let timeline: Timeline
    let log: @Sendable (String) -> Void
    private let active = Mutex<[String: String]>([:])

    public init(enabled: Bool, token: String?, timeline: Timeline, logger log: @escaping @Sendable (String) -> Void) {
        self.enabled = enabled
        self.token = token.map { Array($0.utf8) }
        self.timeline = timeline
        self.log = log
    }

    /// Marks `key` as on (shown by GET /faults) or off, and records it on the timeline.
    public func note(_ key: String, _ what: String?) {
        active.withLock { $0[key] = what }
        if let what {
            timeline.record("fault.injected", fields: [("fault", .string(key)), ("detail", .string(what))])
        } else {
            timeline.record("fault.cleared", fields: [("fault", .string(key))])
        }
        log(what.map { "fault injected: \(key): \($0)" } ?? "fault cleared: \(key)")
    }

    /// A fault that happens once (nothing stays on to heal): the timeline event and the log line only.
    public func once(_ key: String, _ what: String) {
        timeline.record("fault.injected", fields: [("fault", .string(key)), ("detail", .string(what))])
        log("fault injected: \(key): \(what)")
    }

    public var activeFaults: [String: String] { active.withLock { $0 } }

    func refusal(_ req: HTTPRequest) -> HTTPResponse? {
        guard enabled else { return .error(403, "fault controls are off (set faults.enable=true)") }
        if let token {
            guard let given = req.header("x-fault-token"), Digests.constantTimeEqual(Array(given.utf8), token) else {
                return .error(403, "fault controls need the X-Fault-Token header")
            }
            return nil
        }
        let host = req.peer.hasPrefix("[") ? String(req.peer.dropFirst().prefix { $0 != "]" }) : String(req.peer.prefix { $0 != ":" })
        guard host.hasPrefix("127.") || host == "::1" else {
            return .error(403, "fault controls answer loopback peers only (or set faults.token)")
        }
        return nil
    }

    /// Integer query parameter in `range`.
    public static func int(_ q: [String: String], _ key: String, _ range: ClosedRange<Int>) throws(FaultError) -> Int {
        guard let s = q[key], let v = Int(s), range.contains(v) else {
            throw FaultError("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    // MARK: faults every daemon has

    /// `pause?ms=N`: the whole process stops (SIGSTOP) for N ms — a GC pause or a VM freeze — and a
    /// small child process sends SIGCONT when the time is up. `crash`: kill -9 of this process, now
    /// or, with `at=NAME`, when the code reaches one of `points` (name → what happens there).
    public func processActions(crash arm: CrashArm? = nil, points: [(name: String, help: String)] = []) -> [Action] {
        [
            Action("pause", help: "ms=N (1..600000): stop the whole process for N ms (SIGSTOP, then SIGCONT)") { [self] q throws(FaultError) in
                let ms = try Self.int(q, "ms", 1...600_000)
                let pid = getpid()
                let waker: ChildProcess
                do {
                    waker = try ChildProcess("/bin/sh", ["-c", "sleep \(Double(ms + 100) / 1000); kill -CONT \(pid)"])
                } catch {
                    throw FaultError("cannot start the waker: \(error)")
                }
                note("pause", "process stopped for \(ms) ms")
                // Answer first; stop once the reply has left.
                Thread {
                    usleep(100_000)
                    kill(pid, SIGSTOP)
                    _ = waker.waitUntilExit()
                    self.note("pause", nil)
                }.start()
                return "stopping the process for \(ms) ms"
            },
            Action("crash", help: "kill -9 this process (as a power cut would); at=NAME: when it reaches that point ("
                   + (points.isEmpty ? "none here" : points.map { "\($0.name): \($0.help)" }.joined(separator: "; ")) + ")") { [self] q throws(FaultError) in
                if let at = q["at"] {
                    guard let arm, points.contains(where: { $0.name == at }) else {
                        throw FaultError("no crash point '\(at)' here (points: \(points.map(\.name).joined(separator: ", ")))")
                    }
                    arm.arm(at) { [self] point in
                        once("crash", "kill -9 at \(point)")
                        timeline.flush()
                    }
                    note("crash", "armed: kill -9 when the process reaches \(at)")
                    return "armed: kill -9 at \(at)"
                }
                once("crash", "kill -9")
                timeline.flush()
                Thread {
                    usleep(100_000)
                    kill(getpid(), SIGKILL)
                }.start()
                return "killing the process"
            },
        ]
    }
}

extension Router {
    /// `GET /faults` (enabled, active faults, the catalogue) and `POST /faults/<name>`, `POST /faults/clear`.
    /// `clear` runs every action's `clear` (the `heal` closure) and forgets what was on.
    public mutating func addFaults(_ plane: FaultPlane, actions: [FaultPlane.Action], heal: @escaping @Sendable () -> Void) {
        get("/faults", sync: { _ in
            .json(.object([
                ("daemon", .string(plane.timeline.daemon)),
                ("enabled", .bool(plane.enabled)),
                ("active", .object(plane.activeFaults.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ("actions", .array(actions.map { .object([("name", .string($0.name)), ("help", .string($0.help))]) })),
            ]), pretty: true)
        })
        let byName = Dictionary(uniqueKeysWithValues: actions.map { ($0.name, $0) })
        add("POST", "/faults/*") { req, responder in
            if let refused = plane.refusal(req) { return responder.respond(refused) }
            if req.routeRest == "clear" {
                heal()
                for k in plane.activeFaults.keys where k != "pause" { plane.note(k, nil) }
                return responder.respond(.json(.object([("cleared", .bool(true))])))
            }
            guard let action = byName[req.routeRest] else {
                return responder.respond(.error(404, "no fault '\(req.routeRest)'; GET /faults lists them"))
            }
            do {
                let what = try action.apply(req.query)
                responder.respond(.json(.object([("fault", .string(action.name)), ("result", .string(what))])))
            } catch {
                responder.respond(.error(400, "\(action.name): \(error)"))
            }
        }
    }
}
