import BrokerCore
import Protocol

/// DescribeCluster (KIP-700): the cluster id, the controller and the live brokers, as the admin
/// clients' describe_cluster shows them. Anyone may ask, as in Kafka. Only v0 is advertised: v1's
/// endpoint type 2 (KRaft controllers) has no meaning in ZooKeeper mode.
extension RequestHandler {
    func handleDescribeCluster(_ ctx: RequestContext, _ r: DescribeClusterRequest) {
        let brokers = brokerEndpoints(ctx).map { DescribeClusterResponse.DescribeClusterBroker(brokerId: $0.id, host: $0.host, port: $0.port, rack: $0.rack) }
        var response = DescribeClusterResponse(clusterId: clusterId ?? "", controllerId: metadata.controllerId, brokers: brokers)
        // Int32.min (the default) is the protocol's "not asked for".
        if r.includeClusterAuthorizedOperations {
            response.clusterAuthorizedOperations = ctx.access.authorizedOperations(.cluster, ResourcePattern.clusterName)
        }
        ctx.reply(response)
    }
}
