import BrokerCore
import Protocol

/// ControlledShutdown (CLUSTER_ACTION, checked before): served by the active controller only.
extension RequestHandler {
    func handleControlledShutdown(_ ctx: RequestContext, _ r: ControlledShutdownRequest) {
        guard let controller, controller.isActive else {
            return ctx.reply(ControlledShutdownResponse(errorCode: .notController, remainingPartitions: []))
        }
        let (e, remaining) = controller.controlledShutdown(broker: r.brokerId, brokerEpoch: ctx.version >= 2 ? r.brokerEpoch : -1)
        ctx.reply(ControlledShutdownResponse(errorCode: e, remainingPartitions: remaining.map { .init(topicName: $0.topic, partitionIndex: $0.partition) }))
    }
}
