import Observability

/// brokerd's fault controls (`faults.enable=true`; docs/operations.md): the process faults every
/// daemon has, plus stopping this broker's replica fetches so that it drops out of the ISRs.
extension BrokerAdmin {
    static func faultActions(_ b: Broker, _ plane: FaultPlane) -> [FaultPlane.Action] {
        plane.processActions() + [
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
        ]
    }
}
