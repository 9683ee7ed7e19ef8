import BrokerCore
import Protocol

/// One request's view of the authorizer: who asks, from where, for which API. The operation for
/// each check comes from `ApiAcls.table`; handlers only name the resources a request touches.
/// Without an authorizer every check passes (Kafka with no authorizer.class.name).
struct RequestAccess: Sendable {
    let api: KafkaAPI
    let principal: String
    let host: String
    let store: AclStore?

    /// Snapshot taken once per request so one request sees one consistent ACL set.
    private let snapshot: AclAuthorizer?

    init(api: KafkaAPI, principal: String, host: String, store: AclStore?) {
        self.api = api
        self.principal = principal
        self.host = host
        self.store = store
        snapshot = store?.authorizer
    }

    var enabled: Bool { store != nil }

    /// Kafka's authorized operations of one resource: every supported operation the principal may
    /// do (all of them without an authorizer), as a bit field; nothing is logged as denied.
    func authorizedOperations(_ type: AclResourceType, _ name: String) -> Int32 {
        let ops = type.supportedOperations
        guard let snapshot else { return AclOperation.bitField(ops) }
        return AclOperation.bitField(ops.filter { snapshot.authorize(principal: principal, host: host, operation: $0, resource: type, name: name) })
    }

    /// May this request do its operation on `type`:`name`? Denials are counted and logged.
    func allows(_ type: AclResourceType, _ name: String, _ purpose: ApiAcls.Purpose = .main) -> Bool {
        guard let snapshot, let store else { return true }
        guard let op = ApiAcls.operation(api, type, purpose) else {
            // A check with no table entry is a programming error: fail closed.
            store.recordDenial(principal: principal, host: host, operation: .unknown, resource: type, name: name, api: api.name)
            return false
        }
        if snapshot.authorize(principal: principal, host: host, operation: op, resource: type, name: name) { return true }
        store.recordDenial(principal: principal, host: host, operation: op, resource: type, name: name, api: api.name)
        return false
    }

    /// The cluster resource check (`kafka-cluster`).
    func allowsCluster(_ purpose: ApiAcls.Purpose = .main) -> Bool { allows(.cluster, ResourcePattern.clusterName, purpose) }

    /// Kafka's authorizeByResourceType: the operation on at least one resource of the type.
    func allowsAny(_ type: AclResourceType) -> Bool {
        guard let snapshot, let store else { return true }
        guard let op = ApiAcls.operation(api, type) else { return false }
        if snapshot.authorizeAny(principal: principal, host: host, operation: op, resource: type) { return true }
        store.recordDenial(principal: principal, host: host, operation: op, resource: type, name: "*", api: api.name)
        return false
    }

    /// A check that should not count as a denial when it fails (filtering a listing, trying an
    /// alternative first): Metadata hides topics, ListGroups falls back to per-group checks.
    func quietlyAllows(_ type: AclResourceType, _ name: String, _ purpose: ApiAcls.Purpose = .main) -> Bool {
        guard let snapshot else { return true }
        guard let op = ApiAcls.operation(api, type, purpose) else { return false }
        return snapshot.authorize(principal: principal, host: host, operation: op, resource: type, name: name)
    }

    /// The client's address without the port ("10.0.0.7:51234" -> "10.0.0.7"), as ACL hosts name it.
    static func host(ofPeer peer: String) -> String {
        guard let i = peer.lastIndex(of: ":") else { return peer }
        var h = String(peer[..<i])
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        return h
    }
}
