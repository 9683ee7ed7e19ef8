import CoordClient
import Foundation
import Protocol
import Testing

/// Kafka's ZK-mode ACL authorizer on a 2-broker SASL cluster: real clients (confluent-kafka,
/// kafka-python) against ACLs made over the wire, the znode layout, and a change made through one
/// broker (or written straight into coordd, as kafka-acls.sh --authorizer-properties does) taking
/// effect on both.
@Suite(.serialized, .ownThreads) struct AclTests {
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"
    /// Clients on the SASL listener PLAINTEXT; RAW is an unauthenticated listener (User:ANONYMOUS)
    /// the test probes with raw requests. Brokers talk SASL PLAIN as User:admin, a super user.
    static let config = """
        listener.security.protocol.map=PLAINTEXT:SASL_PLAINTEXT,RAW:PLAINTEXT
        inter.broker.listener.name=PLAINTEXT
        sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
        sasl.mechanism.inter.broker.protocol=PLAIN
        listener.name.plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_admin="admin-pw";
        authorizer.class.name=kafka.security.authorizer.AclAuthorizer
        super.users=User:admin
        offsets.topic.replication.factor=2
        default.replication.factor=2
        """

    /// Metadata for one topic as User:ANONYMOUS on a broker's RAW listener.
    static func anonymousTopicError(_ port: Int, _ topic: String) -> ErrorCode? {
        guard let k = try? RawKafka(port: port),
              let r = try? k.call(MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: false), version: 4) else { return nil }
        return r.topics.first?.errorCode
    }

    @Test(.timeLimit(.minutes(6))) func aclsEnforcedForRealClientsAndSharedAcrossBrokers() throws {
        var raw: [Int32: Int] = [:], admin: [Int32: Int] = [:]
        for id in Int32(1)...2 {
            raw[id] = try ProcessHarness.freePort()
            admin[id] = try ProcessHarness.freePort()
        }
        let cluster = try BrokerCluster(brokers: 2, extraConfig: Self.config, brokerConfig: { id, port in
            "listeners=PLAINTEXT://127.0.0.1:\(port),RAW://127.0.0.1:\(raw[id] ?? 0)\nadmin.listener=127.0.0.1:\(admin[id] ?? 0)"
        })
        defer { cluster.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "acl_clients.py", cluster.bootstrap], timeout: 300)
        #expect(r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)\n\(cluster.logs)")

        // Kafka's znode layout and JSON.
        let c = try cluster.coordClient()
        defer { c.close() }
        let lit = cluster.znodeJSON(c, "/kafka-acl/Topic/acl-orders")
        let entries = (lit?["acls"] as? [[String: Any]]) ?? []
        #expect(lit?["version"] as? Int == 1)
        #expect(entries.count == 1 && entries.first?["principal"] as? String == "User:reader" && entries.first?["operation"] as? String == "Read"
                && entries.first?["permissionType"] as? String == "Allow" && entries.first?["host"] as? String == "*", "\(String(describing: lit))")
        #expect(cluster.znodeJSON(c, "/kafka-acl-extended/prefixed/Group/acl-") != nil)
        #expect((try? c.exists("/kafka-acl/Topic/scratch")) == .some(nil), "an emptied resource's znode is deleted")
        let changes = (try? c.getChildren("/kafka-acl-changes")) ?? []
        #expect(!changes.isEmpty && changes.allSatisfy { $0.hasPrefix("acl_changes_") }, "\(changes)")
        #expect(!((try? c.getChildren("/kafka-acl-extended-changes")) ?? []).isEmpty)

        // Unauthenticated User:ANONYMOUS may not describe acl-orders on either broker.
        for id in Int32(1)...2 { #expect(Self.anonymousTopicError(raw[id] ?? 0, "acl-orders") == .topicAuthorizationFailed) }
        // An ACL made through broker 1's Admin API (kafkactl acls) reaches both brokers.
        let env = ["KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "admin", "KAFKA_SASL_PASSWORD": "admin-pw"]
        guard let kafkactl = ProcessHarness.binary("kafkactl") else { throw HarnessError("kafkactl binary not found") }
        let boot1 = "127.0.0.1:\(cluster.port(1))"
        let add = try ProcessHarness.run(kafkactl, ["acls", "--bootstrap-server", boot1, "--add", "--allow-principal", "User:ANONYMOUS",
                                                    "--operation", "Describe", "--topic", "acl-orders"], timeout: 60, env: env)
        #expect(add.status == 0, "\(add.stdout)\n\(add.stderr)")
        for id in Int32(1)...2 {
            #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { Self.anonymousTopicError(raw[id] ?? 0, "acl-orders") == ErrorCode.none },
                    "broker \(id) never saw the new ACL")
        }
        let list = try ProcessHarness.run(kafkactl, ["acls", "--bootstrap-server", boot1, "--list", "--topic", "acl-orders"], timeout: 60, env: env)
        #expect(list.stdout.contains("principal=User:ANONYMOUS, host=*, operation=DESCRIBE, permissionType=ALLOW"), "\(list.stdout)\n\(list.stderr)")
        #expect(list.stdout.contains("principal=User:reader"))
        let remove = try ProcessHarness.run(kafkactl, ["acls", "--bootstrap-server", boot1, "--remove", "--allow-principal", "User:ANONYMOUS",
                                                       "--operation", "Describe", "--topic", "acl-orders"], timeout: 60, env: env)
        #expect(remove.status == 0 && remove.stdout.contains("User:ANONYMOUS"), "\(remove.stdout)\n\(remove.stderr)")
        for id in Int32(1)...2 {
            #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { Self.anonymousTopicError(raw[id] ?? 0, "acl-orders") == .topicAuthorizationFailed },
                    "broker \(id) never dropped the removed ACL")
        }

        // Written straight into coordd with a change notification (Kafka's ZK-mode tools do this):
        // a prefixed DENY for everyone wins over the wildcard ALLOW both brokers now see.
        // The wildcard node exists (the writer's ALL); rewritten whole, as Kafka's tools do.
        _ = try c.setData("/kafka-acl/Topic/*", data: Array(#"{"version":1,"acls":[{"principal":"User:writer","permissionType":"Allow","operation":"All","host":"*"},{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Describe","host":"*"}]}"#.utf8))
        _ = try c.create("/kafka-acl-changes/acl_changes_", data: Array("Topic:*".utf8), mode: .persistentSequential)
        for id in Int32(1)...2 {
            #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { Self.anonymousTopicError(raw[id] ?? 0, "acl-secret") == ErrorCode.none },
                    "broker \(id) never saw the wildcard ACL written to coordd")
        }
        _ = try c.create("/kafka-acl-extended/prefixed/Topic/acl-se", data: Array(#"{"version":1,"acls":[{"principal":"User:*","permissionType":"Deny","operation":"All","host":"*"}]}"#.utf8))
        _ = try c.create("/kafka-acl-extended-changes/acl_changes_",
                         data: Array(#"{"version":1,"resourceType":"TOPIC","name":"acl-se","patternType":"PREFIXED"}"#.utf8), mode: .persistentSequential)
        for id in Int32(1)...2 {
            #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { Self.anonymousTopicError(raw[id] ?? 0, "acl-secret") == .topicAuthorizationFailed },
                    "broker \(id) never saw the prefixed DENY")
            #expect(Self.anonymousTopicError(raw[id] ?? 0, "acl-orders") == ErrorCode.none)
        }

        // A broker that starts loads every ACL: broker 2, restarted, decides as before at once.
        cluster.kill9(2)
        try cluster.startBroker(2)
        #expect(Self.anonymousTopicError(raw[2] ?? 0, "acl-orders") == ErrorCode.none || ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            Self.anonymousTopicError(raw[2] ?? 0, "acl-orders") == ErrorCode.none
        }, "the restarted broker did not load the wildcard ACL")
        #expect(Self.anonymousTopicError(raw[2] ?? 0, "acl-secret") == .topicAuthorizationFailed)

        // Denials are counted and logged (rate-limited).
        let denied = (Int32(1)...2).compactMap { id -> Double? in
            guard let text = try? AdminHTTP.get(admin[id] ?? 0, "/metrics").text else { return nil }
            return text.split(separator: "\n").filter { $0.hasPrefix("kafka_security_authorizer_denied_total{") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }
        #expect(denied.reduce(0, +) > 0, "\(denied)")
        #expect(cluster.logs.contains("authorization denied"))
    }

    /// The checks of the admin, group and controller APIs, probed as User:ANONYMOUS on the RAW
    /// listener: refused with the API's own error without ACLs, allowed once granted (through coordd).
    @Test(.timeLimit(.minutes(3))) func adminGroupAndControllerApisNeedTheirAcls() throws {
        let raw = try ProcessHarness.freePort()
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.config, brokerConfig: { _, port in
            "listeners=PLAINTEXT://127.0.0.1:\(port),RAW://127.0.0.1:\(raw)"
        })
        defer { cluster.cleanup() }
        let k = try RawKafka(port: raw)
        let topic = CreateTopicsRequest.CreatableTopic(name: "guarded", numPartitions: 1, replicationFactor: 1, configs: [])
        #expect(try BrokerStorageTests.createTopics(raw, [topic]) == [.topicAuthorizationFailed])
        #expect(try k.call(DeleteTopicsRequest(topicNames: ["guarded"], timeoutMs: 1000), version: 3).responses.map(\.errorCode) == [.topicAuthorizationFailed])
        #expect(try k.call(DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "1")]), version: 1).results.map(\.errorCode) == [.clusterAuthorizationFailed])
        #expect(try k.call(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "guarded")]), version: 1).results.map(\.errorCode) == [.topicAuthorizationFailed])
        #expect(try k.call(InitProducerIdRequest(), version: 1).errorCode == .clusterAuthorizationFailed)
        #expect(try k.call(InitProducerIdRequest(transactionalId: "tx"), version: 1).errorCode == .transactionalIdAuthorizationFailed)
        #expect(try k.call(FindCoordinatorRequest(key: "g", keyType: 0), version: 2).errorCode == .groupAuthorizationFailed)
        // Batched versions (FindCoordinator v4, OffsetFetch v8) refuse per key, not the whole request.
        #expect(try k.call(FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["g", "h"]), version: 4).coordinators.map(\.errorCode)
            == [.groupAuthorizationFailed, .groupAuthorizationFailed])
        #expect(try k.call(OffsetFetchRequest(groups: [.init(groupId: "g", topics: nil)]), version: 8).groups.map(\.errorCode) == [.groupAuthorizationFailed])
        #expect(try k.call(DescribeGroupsRequest(groups: ["g"]), version: 3).groups.map(\.errorCode) == [.groupAuthorizationFailed])
        #expect(try k.call(DeleteGroupsRequest(groupsNames: ["g"]), version: 1).results.map(\.errorCode) == [.groupAuthorizationFailed])
        let lg = try k.call(ListGroupsRequest(), version: 2)
        #expect(lg.errorCode == .none && lg.groups.isEmpty)
        #expect(try k.call(DescribeUserScramCredentialsRequest(), version: 0).errorCode == .clusterAuthorizationFailed)
        #expect(try k.call(DescribeAclsRequest(resourceTypeFilter: 1, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: nil,
                                               hostFilter: nil, operation: 1, permissionType: 1), version: 1).errorCode == .clusterAuthorizationFailed)
        // A forged controller request is refused before the controller fence even looks at it.
        #expect(try k.call(LeaderAndIsrRequest(controllerId: 1, controllerEpoch: 99, brokerEpoch: -1), version: 2).errorCode == .clusterAuthorizationFailed)
        // Logged at most once a second: the first denial, the rest counted into a later line.
        #expect(cluster.logs.contains("authorization denied: User:ANONYMOUS from 127.0.0.1 may not Create Topic:guarded (CreateTopics)"), "\(cluster.logs)")

        // Granted straight in coordd (as Kafka's ZK-mode tools do): CREATE, IDEMPOTENT_WRITE and
        // DESCRIBE on the cluster, nothing on topics.
        let c = try cluster.coordClient()
        defer { c.close() }
        let grant = #"{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Create","host":"*"},"#
            + #"{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"IdempotentWrite","host":"*"},"#
            + #"{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Describe","host":"127.0.0.1"}]}"#
        // The broker makes the parents when it first loads; that may not have happened yet.
        try? c.createRecursive("/kafka-acl/Cluster")
        try? c.createRecursive("/kafka-acl-changes")
        _ = try c.create("/kafka-acl/Cluster/kafka-cluster", data: Array(grant.utf8))
        _ = try c.create("/kafka-acl-changes/acl_changes_", data: Array("Cluster:kafka-cluster".utf8), mode: .persistentSequential)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { (try? k.call(InitProducerIdRequest(), version: 1).errorCode) == ErrorCode.none },
                "the cluster grant never took effect: \(cluster.logs)")
        #expect(try BrokerStorageTests.createTopics(raw, [topic]) == [.none])
        #expect(try k.call(DeleteTopicsRequest(topicNames: ["guarded"], timeoutMs: 1000), version: 3).responses.map(\.errorCode) == [.topicAuthorizationFailed])
        #expect(try k.call(DescribeAclsRequest(resourceTypeFilter: 1, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: nil,
                                               hostFilter: nil, operation: 1, permissionType: 1), version: 1).resources.map(\.acls.count) == [3])
        // A filter with an UNKNOWN or out-of-range code is the client's error, not an empty answer.
        for bad: Int8 in [0, 99] {
            let d = try k.call(DescribeAclsRequest(resourceTypeFilter: bad, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: nil,
                                                   hostFilter: nil, operation: 1, permissionType: 1), version: 1)
            #expect(d.errorCode == .invalidRequest && d.resources.isEmpty)
        }
        // DESCRIBE on group "open" only: a batch answers it and refuses "g".
        let groupGrant = #"{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Describe","host":"*"}]}"#
        try? c.createRecursive("/kafka-acl/Group")
        _ = try c.create("/kafka-acl/Group/open", data: Array(groupGrant.utf8))
        _ = try c.create("/kafka-acl-changes/acl_changes_", data: Array("Group:open".utf8), mode: .persistentSequential)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            (try? k.call(FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["open", "g"]), version: 4).coordinators.map(\.errorCode))
                == [ErrorCode.none, .groupAuthorizationFailed]
        }, "the group grant never took effect: \(cluster.logs)")
        #expect(try k.call(OffsetFetchRequest(groups: [.init(groupId: "open", topics: nil), .init(groupId: "g", topics: nil)]), version: 8)
            .groups.map(\.errorCode) == [.none, .groupAuthorizationFailed])
        // DESCRIBE on the cluster (not ALTER): the ACL APIs that write stay refused.
        let cr = try k.call(CreateAclsRequest(creations: [.init(resourceType: 2, resourceName: "guarded", resourcePatternType: 3, principal: "User:ANONYMOUS",
                                                                 host: "*", operation: 2, permissionType: 3)]), version: 1)
        #expect(cr.results.map(\.errorCode) == [.clusterAuthorizationFailed])
        // Created topics stay hidden from an all-topics Metadata without DESCRIBE on them.
        let md = try k.call(MetadataRequest(topics: nil), version: 4)
        #expect(!md.topics.contains { $0.name == "guarded" })
        #expect(Self.anonymousTopicError(raw, "guarded") == .topicAuthorizationFailed)
    }

    /// A broker whose coordd session expired (SIGSTOP past the session timeout) reloads the ACLs
    /// changed meanwhile and watches the change nodes again on its new session.
    @Test(.timeLimit(.minutes(3))) func aclsSurviveASessionExpiry() throws {
        let raw = try ProcessHarness.freePort()
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.config, brokerConfig: { _, port in
            "listeners=PLAINTEXT://127.0.0.1:\(port),RAW://127.0.0.1:\(raw)"
        })
        defer { cluster.cleanup() }
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { cluster.logs.contains("loaded 0 ACLs") })
        #expect(Self.anonymousTopicError(raw, "nosuch") == .topicAuthorizationFailed)
        let c = try cluster.coordClient()
        defer { c.close() }
        let broker = try #require(cluster.procs[1])
        kill(broker.pid, SIGSTOP)
        // While it sleeps (its 4 s session expires): User:ANONYMOUS may describe every topic.
        let allow = #"{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Describe","host":"*"}]}"#
        _ = try c.create("/kafka-acl/Topic/*", data: Array(allow.utf8))
        _ = try c.create("/kafka-acl-changes/acl_changes_", data: Array("TOPIC:*".utf8), mode: .persistentSequential)
        usleep(9_000_000)
        kill(broker.pid, SIGCONT)
        #expect(ProcessHarness.waitUntil(timeout: 40, interval: 0.2) { Self.anonymousTopicError(raw, "nosuch") == .unknownTopicOrPartition },
                "the ACL written during the expired session never took effect: \(cluster.logs)")
        #expect(cluster.logs.contains("coordd session expired"), "the pause did not expire the session; the test proved nothing")
        // The new session watches again: a DENY added now is seen.
        let deny = #"{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Describe","host":"*"},"#
            + #"{"principal":"User:ANONYMOUS","permissionType":"Deny","operation":"Describe","host":"*"}]}"#
        _ = try c.setData("/kafka-acl/Topic/*", data: Array(deny.utf8))
        _ = try c.create("/kafka-acl-changes/acl_changes_", data: Array("TOPIC:*".utf8), mode: .persistentSequential)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { Self.anonymousTopicError(raw, "nosuch") == .topicAuthorizationFailed },
                "the change after the new session was not seen: \(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(2))) func aclApisAnswerSecurityDisabledWithoutAnAuthorizer() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let k = try RawKafka(port: cluster.port(1))
        let d = try k.call(DescribeAclsRequest(resourceTypeFilter: 1, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: nil,
                                               hostFilter: nil, operation: 1, permissionType: 1), version: 1)
        #expect(d.errorCode == .securityDisabled)
        let cr = try k.call(CreateAclsRequest(creations: [.init(resourceType: 2, resourceName: "t", resourcePatternType: 3, principal: "User:a",
                                                                 host: "*", operation: 3, permissionType: 3)]), version: 2)
        #expect(cr.results.map(\.errorCode) == [.securityDisabled])
        let del = try k.call(DeleteAclsRequest(filters: [.init(resourceTypeFilter: 1, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: nil,
                                                               hostFilter: nil, operation: 1, permissionType: 1)]), version: 3)
        #expect(del.filterResults.map(\.errorCode) == [.securityDisabled])
        // Without an authorizer nothing is checked: an anonymous client creates and describes a topic.
        #expect(try BrokerStorageTests.createTopics(cluster.port(1), [.init(name: "open", numPartitions: 1, replicationFactor: 1, configs: [])]) == [.none])
        let md = try k.call(MetadataRequest(topics: [.init(name: "open")], allowAutoTopicCreation: false), version: 4)
        #expect(md.topics.first?.errorCode != .topicAuthorizationFailed)
        let cc = try cluster.coordClient()
        defer { cc.close() }
        #expect(try cc.exists("/kafka-acl") == nil, "no ACL znodes without an authorizer")
    }
}
