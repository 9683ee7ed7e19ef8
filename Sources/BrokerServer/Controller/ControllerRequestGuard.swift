import BrokerCore
import CoordClient
import Protocol
import Synchronization
import Transport

/// Runs BrokerCore's `ControllerRequestGate` for the request handlers: the fast check under a lock,
/// and, only when the gate asks, one read of `/controller_epoch`, `/controller` and this broker's
/// registration from coordd. A watch on `/controller` makes the next request confirm again after
/// a controller change, so a deposed controller is refused even before its successor writes.
final class ControllerRequestGuard: Sendable {
    private struct State {
        var gate = ControllerRequestGate()
        var watchArmed = false
        /// One confirmation at a time, at most one per `confirmIntervalNanos`: a flood of forged
        /// requests costs coordd a few reads per interval, not per request. The others are closed,
        /// and a real controller's channel retries, by then usually admitted at once (every
        /// confirmation caches coordd's truth, whoever's request triggered it).
        var confirming = false
        var lastConfirmNanos: UInt64 = 0
    }

    static let confirmIntervalNanos: UInt64 = 50_000_000

    private let state = Mutex(State())
    private let brokerId: BrokerID
    private let logger: Logger
    /// Refusals are logged at most once a second (a flood must not fill the disk).
    private let refusalLog: RateLimitedLog

    init(brokerId: BrokerID, logger: Logger) {
        self.brokerId = brokerId
        self.logger = logger
        refusalLog = RateLimitedLog(perSecond: 1) { logger.warn($0) }
    }

    var gate: ControllerRequestGate { state.withLock { $0.gate } }

    func registered(brokerEpoch: Int64) { state.withLock { $0.gate.registered(brokerEpoch: brokerEpoch) } }

    func sessionLost() {
        state.withLock {
            $0.gate.sessionLost()
            $0.watchArmed = false
        }
    }

    /// `.none` to go ahead, the error to answer with, or nil when coordd cannot be asked now (the
    /// caller closes the connection so the controller's channel retries).
    func admit(_ claim: ControllerRequestGate.Claim, api: String, peer: String, session: CoordSession) -> ErrorCode? {
        let (verdict, generation) = state.withLock { ($0.gate.check(claim), $0.gate.generation) }
        switch verdict {
        case .admit: return ErrorCode.none
        case .refuse(let e):
            refused(claim, api: api, peer: peer, e, gate: gate)
            return ErrorCode(e.rawValue)
        case .confirm:
            guard let client = session.connectedClient else { return nil }
            let now = MonotonicClock.nanos()
            let mayRead = state.withLock { s -> Bool in
                guard !s.confirming, now &- s.lastConfirmNanos >= Self.confirmIntervalNanos || s.lastConfirmNanos == 0 else { return false }
                s.confirming = true
                return true
            }
            guard mayRead else { return nil }
            defer {
                state.withLock {
                    $0.confirming = false
                    $0.lastConfirmNanos = MonotonicClock.nanos()
                }
            }
            do {
                var view = try read(client)
                if claim.controllerEpoch > view.controllerEpoch {
                    // Our coordd server may lag the one the controller wrote to: catch up once.
                    try client.sync(ZkPaths.controllerEpoch)
                    view = try read(client)
                }
                let e = state.withLock { $0.gate.decide(claim, with: view, generation: generation) }
                if e != .noError { refused(claim, api: api, peer: peer, e, gate: gate) }
                return ErrorCode(e.rawValue)
            } catch {
                logger.info("cannot confirm \(api) from \(peer) against coordd (\(error)); closing the connection")
                return nil
            }
        }
    }

    private func refused(_ c: ControllerRequestGate.Claim, api: String, peer: String, _ e: KafkaError, gate: ControllerRequestGate) {
        refusalLog("refused \(api) from \(peer): controller \(c.controllerId) epoch \(c.controllerEpoch) broker epoch \(c.brokerEpoch); "
                   + "coordd says controller \(gate.controllerId) epoch \(gate.controllerEpoch), broker epoch \(gate.brokerEpoch) (\(e))")
    }

    private func read(_ client: CoordClient) throws -> ControllerRequestGate.CoordView {
        let arm = state.withLock { s -> Bool in
            defer { s.watchArmed = true }
            return !s.watchArmed
        }
        if arm {
            do {
                _ = try client.exists(ZkPaths.controller, watcher: { [weak self] _ in
                    self?.state.withLock {
                        $0.watchArmed = false
                        $0.gate.controllerChanged()
                    }
                })
            } catch {
                state.withLock { $0.watchArmed = false }
                throw error
            }
        }
        var epoch: Int32 = -1
        do {
            epoch = try ControllerEpochPayload.decode(try client.getData(ZkPaths.controllerEpoch).data)
        } catch let e as CoordError where e.isNoNode {}
        var holder: BrokerID = -1
        do {
            let data = try client.getData(ZkPaths.controller).data
            holder = (try? ControllerRegistration.decode(data))?.brokerId ?? -1
        } catch let e as CoordError where e.isNoNode {}
        var mine: Int64?
        if let st = try client.exists(ZkPaths.broker(brokerId)), st.ephemeralOwner == client.currentSessionID { mine = st.czxid }
        return .init(controllerEpoch: epoch, controllerId: holder, brokerEpoch: mine)
    }
}
