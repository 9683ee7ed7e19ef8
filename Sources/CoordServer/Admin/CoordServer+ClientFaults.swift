import Observability
import Protocol
import Transport

/// What the `clients` fault does to the client listener (docs/operations.md).
enum ClientFault: Equatable {
    /// Nothing read from any client (new connections are accepted, then not read): clients time
    /// out as behind a dead network while the quorum carries on.
    case drop
    /// Every batch of requests a client sends waits this many ms before it is handled.
    case delay(Int)
}

/// `POST /faults/clients?mode=drop|delay|pass[&delay=D][&ms=M]`: the client listener only, the
/// quorum links untouched; `pass` (or `clear`, or `ms` running out) lets everything held go on.
extension CoordServer {
    func clientFaultAction(_ plane: FaultPlane) -> FaultPlane.Action {
        let box = UncheckedBox(self)
        return FaultPlane.Action("clients", help: "mode=drop|delay|pass [delay=N] [ms=N]: stop reading every client connection, or hold each client's requests `delay` ms; pass heals; healed after ms if given") { q throws(FaultPlane.FaultError) in
            let ms = try q["ms"].map { _ throws(FaultPlane.FaultError) in try FaultPlane.int(q, "ms", 1...3_600_000) }
            let fault: ClientFault?
            switch q["mode"] ?? "drop" {
            case "drop": fault = .drop
            case "delay": fault = .delay(try FaultPlane.int(q, "delay", 1...60_000))
            case "pass": fault = nil
            case let m: throw FaultPlane.FaultError("mode '\(m)' is not drop, delay or pass")
            }
            try box.value.onLoopAndWait { s in
                s.setClientFault(fault)
                guard let ms, fault != nil else { return }
                s.loop.schedule(afterMillis: ms) {
                    // A later fault (or pass) owns the listener now.
                    guard s.clientFault == fault else { return }
                    s.setClientFault(nil)
                    plane.note("clients", nil)
                }
            }
            switch fault {
            case .drop?:
                plane.note("clients", "client connections not read" + (ms.map { " for \($0) ms" } ?? ""))
                return "stopped reading client connections"
            case .delay(let d)?:
                plane.note("clients", "client requests held \(d) ms" + (ms.map { " for \($0) ms" } ?? ""))
                return "holding client requests \(d) ms"
            case nil:
                plane.note("clients", nil)
                return "client connections read again"
            }
        }
    }

    /// Loop thread. Lifting a fault reads what every connection sent meanwhile.
    func setClientFault(_ f: ClientFault?) {
        clientFault = f
        if f == nil {
            for c in Array(cnxs.values) {
                c.faultPass = false
                resumeReading(c)
            }
        }
    }

    /// Called before a connection's frames are handled: true when the fault holds them (the
    /// input is kept, reading paused). With a delay the held frames go on after it.
    func clientFaultHolds(_ cnx: ClientCnx, _ input: inout FrameDecoder.Input) -> Bool {
        guard let f = clientFault, cnx.phase != .closing else { return false }
        if case .delay = f, cnx.faultPass { return false }
        cnx.decoder.keep(&input)
        cnx.conn.setReadPaused(true)
        if case .delay(let ms) = f, !cnx.faultDelayed {
            cnx.faultDelayed = true
            let box = UncheckedBox(self)
            loop.schedule(afterMillis: ms) { [weak cnx] in
                guard let cnx else { return }
                cnx.faultDelayed = false
                cnx.faultPass = true
                box.value.resumeReading(cnx)
                cnx.faultPass = false
            }
        }
        return true
    }
}
