import BrokerCore
import CoordClient

extension CoordSession {
    /// A topic's config overrides from `/config/topics/<t>`: empty when there are none, nil when
    /// coordd cannot answer (the caller keeps what it knew).
    func topicConfig(_ topic: String) -> [String: String]? {
        guard let c = connectedClient else { return nil }
        do {
            let (d, _) = try c.getData(ZkPaths.topicConfig(topic))
            guard let payload = try? TopicConfigPayload.decode(d) else {
                logger.warn("\(ZkPaths.topicConfig(topic)) is not a topic config; using broker defaults")
                return [:]
            }
            return payload.config
        } catch let e as CoordError where e.isNoNode {
            return [:]
        } catch {
            return nil
        }
    }
}
