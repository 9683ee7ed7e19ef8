import Dispatch
import Observability
import Synchronization
import Transport

/// coordd's fault controls (`faults.enable=true`; docs/operations.md): the process faults every
/// daemon has, plus cutting peer links and forcing the leader out of its quorum.
extension CoordServer {
    func faultActions(_ plane: FaultPlane) -> [FaultPlane.Action] {
        let box = UncheckedBox(self)
        let peers = config.servers.keys.map(UInt64.init).filter { $0 != UInt64(config.myid ?? -1) }.sorted()
        let stepDownMs = Int(config.tickTime) * (config.syncLimit + 2)
        /// Blackholes `ids` on the loop; heals after `ms` when given.
        let cut: @Sendable ([UInt64], Int?) throws(FaultPlane.FaultError) -> Void = { ids, ms throws(FaultPlane.FaultError) in
            try box.value.onLoopAndWait { s in
                guard let links = s.quorum?.links else { return }
                links.blackholed.formUnion(ids)
                guard let ms else { return }
                s.loop.schedule(afterMillis: ms) {
                    links.blackholed.subtract(ids)
                    for id in ids { plane.note("peer.\(id)", nil) }
                }
            }
        }
        // The named crash points are moments of the peer protocol: standalone has none.
        return plane.processActions(crash: isStandalone ? nil : quorum?.crash, points: isStandalone ? [] : CrashPoint.catalogue) + [clientFaultAction(plane)] + [
            FaultPlane.Action("peer", help: "id=N|all mode=drop|delay|pass [delay=N] [ms=N]: blackhole the quorum link to server N (both ways), or hold every message this server sends it for `delay` ms; pass heals; healed after ms if given") { q throws(FaultPlane.FaultError) in
                guard !peers.isEmpty else { throw FaultPlane.FaultError("a standalone server has no peer links") }
                let ids: [UInt64]
                if q["id"] == "all" {
                    ids = peers
                } else {
                    let id = UInt64(try FaultPlane.int(q, "id", 0...255))
                    guard peers.contains(id) else { throw FaultPlane.FaultError("server \(id) is not a peer of this one (peers: \(peers))") }
                    ids = [id]
                }
                let ms = try q["ms"].map { _ throws(FaultPlane.FaultError) in try FaultPlane.int(q, "ms", 1...3_600_000) }
                switch q["mode"] ?? "drop" {
                case "drop":
                    try cut(ids, ms)
                    for id in ids { plane.note("peer.\(id)", "quorum link blackholed" + (ms.map { " for \($0) ms" } ?? "")) }
                    return "blackholed the links to \(ids)"
                case "delay":
                    let delay = try FaultPlane.int(q, "delay", 1...60_000)
                    try box.value.onLoopAndWait { s in
                        guard let links = s.quorum?.links else { return }
                        for id in ids { links.delays[id] = delay }
                        guard let ms else { return }
                        s.loop.schedule(afterMillis: ms) {
                            for id in ids where links.delays[id] == delay {
                                links.delays[id] = nil
                                plane.note("peer.\(id)", nil)
                            }
                        }
                    }
                    for id in ids { plane.note("peer.\(id)", "messages to server \(id) held \(delay) ms" + (ms.map { " for \($0) ms" } ?? "")) }
                    return "delaying the messages to \(ids) by \(delay) ms"
                case "pass":
                    try box.value.onLoopAndWait { s in
                        s.quorum?.links?.blackholed.subtract(ids)
                        for id in ids { s.quorum?.links?.delays[id] = nil }
                    }
                    for id in ids { plane.note("peer.\(id)", nil) }
                    return "healed the links to \(ids)"
                case let m:
                    throw FaultPlane.FaultError("mode '\(m)' is not drop, delay or pass")
                }
            },
            FaultPlane.Action("expire", help: "session=0xID: expire that session at the next tick, as if its client went silent (on the leader, or a standalone server)") { q throws(FaultPlane.FaultError) in
                guard let text = q["session"], let id = UInt64(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16) else {
                    throw FaultPlane.FaultError("session must be a hex session id (0x...)")
                }
                let sid = Int64(bitPattern: id)
                let outcome = Mutex<String?>(nil)
                try box.value.onLoopAndWait { s in
                    guard s.quorum?.leaderReady == true else {
                        outcome.withLock { $0 = "this server does not track sessions: ask the leader" }
                        return
                    }
                    guard s.tracker.contains(sid) else {
                        outcome.withLock { $0 = "no session \(text) is open" }
                        return
                    }
                    // A zero timeout: the next tick's expiry pass closes it through the normal path.
                    s.tracker.add(sid, timeout: 0, now: WallClock.millis())
                }
                if let refusal = outcome.withLock({ $0 }) { throw FaultPlane.FaultError(refusal) }
                plane.once("expire", "session \(text) expired on request")
                return "session \(text) expires at the next tick"
            },
            FaultPlane.Action("fsync", help: "ms=N (0..10000): every fsync of the txn log takes N ms longer, a slow disk (0 heals)") { q throws(FaultPlane.FaultError) in
                let ms = try FaultPlane.int(q, "ms", 0...10_000)
                try box.value.onLoopAndWait { s in s.setSlowSync(ms: ms) }
                plane.note("fsync", ms == 0 ? nil : "every fsync \(ms) ms slower")
                return ms == 0 ? "fsync back to normal" : "every fsync \(ms) ms slower"
            },
            FaultPlane.Action("stepdown", help: "cut every quorum link for (syncLimit + 2) ticks: a leader loses its quorum and steps down, the others elect") { _ throws(FaultPlane.FaultError) in
                guard !peers.isEmpty else { throw FaultPlane.FaultError("a standalone server has no quorum to leave") }
                try cut(peers, stepDownMs)
                for id in peers { plane.note("peer.\(id)", "cut for \(stepDownMs) ms (stepdown)") }
                return "cut from every peer for \(stepDownMs) ms"
            },
        ]
    }

    /// Runs `f` on the loop and waits for it (at most 2 s), so a fault's answer means it is in effect:
    /// the next request of the caller already meets it.
    func onLoopAndWait(_ f: @escaping @Sendable (CoordServer) -> Void) throws(FaultPlane.FaultError) {
        let done = DispatchSemaphore(value: 0)
        onLoop { s in
            f(s)
            done.signal()
        }
        guard done.wait(timeout: .now() + 2) == .success else { throw FaultPlane.FaultError("the server did not answer in 2 s") }
    }

    /// `POST /faults/clear`: every peer link back, the disk at its speed, no crash point armed.
    func healFaults() {
        try? onLoopAndWait { s in
            s.quorum?.links?.blackholed.removeAll()
            s.quorum?.links?.delays.removeAll()
            s.quorum?.crash.arm(nil)
            s.setSlowSync(ms: 0)
            s.setClientFault(nil)
        }
    }

    func setSlowSync(ms: Int) { quorum?.storage.setSlowSync(ms: ms) }
}
