import Foundation
import Observability

/// brokerd's fault controls (`faults.enable=true`; docs/operations.md): the process faults every
/// daemon has (with brokerd's crash points), stopping this broker's replica fetches so that it drops
/// out of the ISRs, cutting its link to coordd, and a slow disk.
extension BrokerAdmin {
    static func faultActions(_ b: Broker, _ plane: FaultPlane) -> [FaultPlane.Action] {
        let hooks = b.replicas.faults
        return plane.processActions(crash: hooks.crash, points: BrokerFaultHooks.Point.catalogue) + [
            FaultPlane.Action("fetch", help: "mode=pause|resume: stop or restart this broker's replica fetches (it leaves every ISR after replica.lag.time.max.ms)") { q throws(FaultPlane.FaultError) in
                switch q["mode"] ?? "pause" {
                case "pause":
                    b.fetchers.paused.store(true, ordering: .relaxed)
                    plane.note("fetch", "replica fetches paused")
                    return "replica fetches paused"
                case "resume":
                    b.fetchers.paused.store(false, ordering: .relaxed)
                    plane.note("fetch", nil)
                    return "replica fetches resumed"
                case let m:
                    throw FaultPlane.FaultError("mode '\(m)' is not pause or resume")
                }
            },
            FaultPlane.Action("coord", help: "mode=drop|pass [ms=N]: cut this broker off from coordd (its session expires, its registration goes, the controller moves its partitions); pass, or ms later, lets it reconnect and re-register") { q throws(FaultPlane.FaultError) in
                guard let client = b.session?.client else { throw FaultPlane.FaultError("this broker has no coordd session yet") }
                switch q["mode"] ?? "drop" {
                case "drop":
                    let ms = try q["ms"].map { _ throws(FaultPlane.FaultError) in try FaultPlane.int(q, "ms", 1...3_600_000) }
                    let generation = hooks.coordCutGeneration.add(1, ordering: .relaxed).newValue
                    client.setBlackholed(true)
                    plane.note("coord", "link to coordd cut" + (ms.map { " for \($0) ms" } ?? ""))
                    if let ms {
                        Thread.detachNewThread {
                            usleep(UInt32(ms) * 1000)
                            guard hooks.coordCutGeneration.load(ordering: .relaxed) == generation else { return }
                            client.setBlackholed(false)
                            plane.note("coord", nil)
                        }
                    }
                    return "cut the link to coordd"
                case "pass":
                    hooks.coordCutGeneration.add(1, ordering: .relaxed)
                    client.setBlackholed(false)
                    plane.note("coord", nil)
                    return "the link to coordd is back"
                case let m:
                    throw FaultPlane.FaultError("mode '\(m)' is not drop or pass")
                }
            },
            FaultPlane.Action("clients", help: "mode=drop|delay|pass [delay=N] [ms=N]: take no client request on any listener, or hold each one `delay` ms (replica fetches from other brokers included); pass heals; healed after ms if given") { q throws(FaultPlane.FaultError) in
                let ms = try q["ms"].map { _ throws(FaultPlane.FaultError) in try FaultPlane.int(q, "ms", 1...3_600_000) }
                let value: Int
                switch q["mode"] ?? "drop" {
                case "drop": value = -1
                case "delay": value = try FaultPlane.int(q, "delay", 1...60_000)
                case "pass": value = 0
                case let m: throw FaultPlane.FaultError("mode '\(m)' is not drop, delay or pass")
                }
                let generation = hooks.clientFaultGeneration.add(1, ordering: .relaxed).newValue
                b.setClientFault(value)
                let what = value < 0 ? "no client request taken" : "client requests held \(value) ms"
                plane.note("clients", value == 0 ? nil : what + (ms.map { " for \($0) ms" } ?? ""))
                if let ms, value != 0 {
                    Thread.detachNewThread {
                        usleep(UInt32(ms) * 1000)
                        guard hooks.clientFaultGeneration.load(ordering: .relaxed) == generation else { return }
                        b.setClientFault(0)
                        plane.note("clients", nil)
                    }
                }
                return value == 0 ? "client requests taken again" : what
            },
            FaultPlane.Action("disk", help: "ms=N (0..10000): every log append of this broker (leader and follower) takes N ms longer, a slow disk (0 heals)") { q throws(FaultPlane.FaultError) in
                let ms = try FaultPlane.int(q, "ms", 0...10_000)
                hooks.diskDelayMs.store(ms, ordering: .relaxed)
                plane.note("disk", ms == 0 ? nil : "every log append \(ms) ms slower")
                return ms == 0 ? "disk back to normal" : "every log append \(ms) ms slower"
            },
        ]
    }

    /// `POST /faults/clear`: fetches resumed, coordd reachable, the disk at its speed, no crash armed.
    static func healFaults(_ b: Broker) {
        b.fetchers.paused.store(false, ordering: .relaxed)
        b.replicas.faults.heal()
        b.session?.client.setBlackholed(false)
        b.replicas.faults.clientFaultGeneration.add(1, ordering: .relaxed)
        b.setClientFault(0)
    }
}
