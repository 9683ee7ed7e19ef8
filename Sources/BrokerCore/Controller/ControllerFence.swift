/// Broker-side acceptance of controller requests: a request from an older controller epoch is
/// refused (STALE_CONTROLLER_EPOCH), and a partition state only replaces the local one when its
/// leader epoch is newer, so reordered or stale instructions never roll a partition back.
public struct ControllerFence: Sendable {
    public private(set) var controllerEpoch: Int32 = -1
    public private(set) var controllerId: BrokerID = -1

    public init() {}

    public mutating func admit(controllerId: BrokerID, controllerEpoch: Int32) -> KafkaError {
        if controllerEpoch < self.controllerEpoch { return .staleControllerEpoch }
        self.controllerEpoch = controllerEpoch
        self.controllerId = controllerId
        return .noError
    }

    /// Per-partition check inside an admitted LeaderAndIsr: only a higher leader epoch applies
    /// (Kafka answers STALE_CONTROLLER_EPOCH for the partition otherwise).
    public static func acceptPartition(currentLeaderEpoch: Int32?, requested: Int32) -> KafkaError {
        guard let current = currentLeaderEpoch else { return .noError }
        return requested > current ? .noError : .staleControllerEpoch
    }
}
