import BrokerCore
import Foundation
import Protocol

extension Broker {
    /// Kafka's controlled shutdown (`controlled.shutdown.enable`): before it stops serving, the
    /// broker asks the controller to move leadership off it and take it out of the ISRs, so
    /// clients move to the new leaders while this broker still answers. Retried while partitions
    /// remain (no other in-sync replica yet) or the controller is unreachable, then the broker
    /// stops regardless, as Kafka does.
    func controlledShutdown() {
        let attempts = max(1, config.controlledShutdownMaxRetries)
        for attempt in 1...attempts {
            if attempt > 1 { usleep(UInt32(min(config.controlledShutdownRetryBackoffMs, 60_000)) * 1000) }
            // coordd's /controller is fresher than the metadata cache right after a controller change.
            let controllerId = session?.connectedClient.flatMap { c in
                (try? c.getData(ZkPaths.controller)).flatMap { try? ControllerRegistration.decode($0.data) }?.brokerId
            } ?? metadata.controllerId
            guard controllerId >= 0, let c = metadata.broker(controllerId) else {
                logger.info("controlled shutdown: no controller known (attempt \(attempt) of \(attempts))")
                continue
            }
            let client = KafkaBlockingClient(host: c.host, port: Int(c.port), clientId: "broker-\(config.brokerID)-shutdown",
                                             sasl: config.security.interBrokerSasl, tls: interBrokerTLS)
            defer { client.close() }
            do {
                let epoch = handler?.controllerGuard.gate.brokerEpoch ?? -1
                let r = try client.send(ControlledShutdownRequest(brokerId: config.brokerID, brokerEpoch: epoch), version: 3, timeoutMs: 30_000)
                if r.errorCode == .none && r.remainingPartitions.isEmpty {
                    logger.info("controlled shutdown: controller \(controllerId) moved leadership off this broker")
                    return
                }
                logger.info("controlled shutdown: \(r.errorCode.name), \(r.remainingPartitions.count) partitions still led here (attempt \(attempt) of \(attempts))")
            } catch {
                logger.info("controlled shutdown: controller \(controllerId) unreachable: \(error) (attempt \(attempt) of \(attempts))")
            }
        }
        logger.warn("controlled shutdown did not complete after \(attempts) attempts; shutting down anyway")
    }
}
