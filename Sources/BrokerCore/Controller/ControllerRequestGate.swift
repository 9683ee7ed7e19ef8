/// Broker-side admission of controller-only requests (LeaderAndIsr, StopReplica, UpdateMetadata),
/// as Kafka fences them in ZooKeeper mode: the request must come from the controller coordd names
/// (`/controller`), in the epoch coordd holds (`/controller_epoch`), addressed to this broker's
/// current registration (KIP-380 broker epoch: the czxid of `/brokers/ids/<id>`).
///
/// Only what coordd confirmed is ever cached, so a forged epoch cannot poison later decisions. The
/// normal path is a comparison: coordd is read (`confirm`) only when a request names an epoch,
/// controller or broker epoch the gate has not confirmed yet, or after `/controller` changed.
public struct ControllerRequestGate: Sendable, Equatable {
    /// What a controller request says about its sender and recipient.
    public struct Claim: Sendable, Equatable {
        public var controllerId: BrokerID
        public var controllerEpoch: Int32
        public var brokerEpoch: Int64
        public init(controllerId: BrokerID, controllerEpoch: Int32, brokerEpoch: Int64) {
            self.controllerId = controllerId
            self.controllerEpoch = controllerEpoch
            self.brokerEpoch = brokerEpoch
        }
    }

    /// What coordd says, read in this order: `/controller_epoch`, then `/controller`, then this
    /// broker's registration. (Epoch first: a controller writes `/controller` before bumping the
    /// epoch, so a read in between pairs the new holder with the old epoch, which only refuses the
    /// old holder, which has lost anyway.)
    public struct CoordView: Sendable, Equatable {
        /// -1 when `/controller_epoch` does not exist.
        public var controllerEpoch: Int32
        /// -1 when nobody holds `/controller`.
        public var controllerId: BrokerID
        /// czxid of `/brokers/ids/<id>` when our own session holds it, else nil.
        public var brokerEpoch: Int64?
        public init(controllerEpoch: Int32, controllerId: BrokerID, brokerEpoch: Int64?) {
            self.controllerEpoch = controllerEpoch
            self.controllerId = controllerId
            self.brokerEpoch = brokerEpoch
        }
    }

    public enum Verdict: Sendable, Equatable {
        case admit
        case refuse(KafkaError)
        /// Read coordd (`CoordView`) and decide with `decide(_:with:generation:)`.
        case confirm
    }

    /// The newest controller epoch and holder coordd confirmed (-1: none yet).
    public private(set) var controllerEpoch: Int32 = -1
    public private(set) var controllerId: BrokerID = -1
    /// False until a confirmation, and again after `/controller` changed.
    public private(set) var controllerConfirmed = false
    /// This broker's registration czxid (-1: not registered in the current session).
    public private(set) var brokerEpoch: Int64 = -1
    /// Bumped by every invalidation, so a confirmation read before it cannot mark the gate confirmed.
    public private(set) var generation: UInt64 = 0

    public init() {}

    /// The fast check: no coordd access.
    public func check(_ c: Claim) -> Verdict {
        if controllerEpoch >= 0 && c.controllerEpoch < controllerEpoch { return .refuse(.staleControllerEpoch) }
        guard controllerConfirmed, c.controllerEpoch == controllerEpoch else { return .confirm }
        // The confirmed holder of this epoch is someone else: an impostor, or a holder that lost.
        guard c.controllerId == controllerId else { return .refuse(.staleControllerEpoch) }
        if c.brokerEpoch == brokerEpoch && brokerEpoch >= 0 { return .admit }
        // A newer registration than we know may be ours (the controller can see it first).
        return c.brokerEpoch > brokerEpoch ? .confirm : .refuse(.staleBrokerEpoch)
    }

    /// Decides against what coordd says and caches it (it is the truth, whatever the claim was).
    /// `generation` is the gate's generation when the read started.
    public mutating func decide(_ c: Claim, with view: CoordView, generation readAt: UInt64) -> KafkaError {
        learn(view, generation: readAt)
        if c.controllerEpoch < view.controllerEpoch { return .staleControllerEpoch }
        // Higher than coordd holds: nobody was elected in that epoch (a forged or confused request).
        if c.controllerEpoch > view.controllerEpoch { return .staleControllerEpoch }
        if view.controllerId < 0 || c.controllerId != view.controllerId { return .staleControllerEpoch }
        guard let mine = view.brokerEpoch, c.brokerEpoch == mine else { return .staleBrokerEpoch }
        return .noError
    }

    public mutating func learn(_ view: CoordView, generation readAt: UInt64) {
        if view.controllerEpoch >= controllerEpoch {
            if view.controllerEpoch > controllerEpoch || view.controllerId != controllerId { controllerConfirmed = false }
            controllerEpoch = view.controllerEpoch
            controllerId = view.controllerId
            if readAt == generation && view.controllerId >= 0 { controllerConfirmed = true }
        }
        if let b = view.brokerEpoch, b > brokerEpoch { brokerEpoch = b }
    }

    /// `/controller` changed (watch): the next request confirms again.
    public mutating func controllerChanged() {
        controllerConfirmed = false
        generation &+= 1
    }

    /// This broker registered (or found its registration) with czxid `epoch`.
    public mutating func registered(brokerEpoch epoch: Int64) { brokerEpoch = epoch }

    /// The session is gone and with it the registration: requests for it are stale from now on.
    public mutating func sessionLost() {
        brokerEpoch = -1
        controllerChanged()
    }
}
