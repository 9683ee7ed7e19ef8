@testable import BrokerCore
import Protocol
import Testing

@Suite struct AclAuthorizerTests {
    let alice = "User:alice", bob = "User:bob"

    func authz(_ bindings: [AclBinding], superUsers: Set<String> = [], allowEveryone: Bool = false) -> AclAuthorizer {
        var a = AclAuthorizer(superUsers: superUsers, allowEveryoneIfNoAclFound: allowEveryone)
        var m: [ResourcePattern: Set<AclEntry>] = [:]
        for b in bindings { m[b.pattern, default: []].insert(b.entry) }
        a.replaceAll(m)
        return a
    }

    func allow(_ p: String, _ op: AclOperation, _ r: ResourcePattern, host: String = "*") -> AclBinding {
        AclBinding(r, AclEntry(principal: p, host: host, operation: op, permission: .allow))
    }

    func deny(_ p: String, _ op: AclOperation, _ r: ResourcePattern, host: String = "*") -> AclBinding {
        AclBinding(r, AclEntry(principal: p, host: host, operation: op, permission: .deny))
    }

    func can(_ a: AclAuthorizer, _ p: String, _ op: AclOperation, _ t: AclResourceType, _ n: String, host: String = "10.0.0.1") -> Bool {
        a.authorize(principal: p, host: host, operation: op, resource: t, name: n)
    }

    @Test func literalAllowOnlyForThatPrincipalResourceAndOperation() {
        let a = authz([allow(alice, .read, ResourcePattern(.topic, "orders"))])
        #expect(can(a, alice, .read, .topic, "orders"))
        #expect(!can(a, bob, .read, .topic, "orders"))
        #expect(!can(a, alice, .write, .topic, "orders"))
        #expect(!can(a, alice, .read, .topic, "orders2"))
        #expect(!can(a, alice, .read, .group, "orders"))
    }

    @Test func denyWinsOverAllowIncludingWildcards() {
        let a = authz([allow(alice, .all, ResourcePattern(.topic, "*")), deny(alice, .write, ResourcePattern(.topic, "orders")),
                       deny("User:*", .read, ResourcePattern(.topic, "secret", .prefixed))])
        #expect(can(a, alice, .write, .topic, "payments"))
        #expect(!can(a, alice, .write, .topic, "orders"))
        #expect(can(a, alice, .read, .topic, "orders"))
        #expect(!can(a, alice, .read, .topic, "secret-stuff"))
        // Deny is not implied: DENY READ leaves DESCRIBE (granted by ALL) alone.
        #expect(can(a, alice, .describe, .topic, "secret-stuff"))
        let denyAll = authz([allow(alice, .read, ResourcePattern(.topic, "t")), deny(alice, .all, ResourcePattern(.topic, "t"))])
        #expect(!can(denyAll, alice, .read, .topic, "t"))
        #expect(!can(denyAll, alice, .describe, .topic, "t"))
    }

    @Test func wildcardPrincipalHostAndResourceName() {
        let a = authz([allow("User:*", .read, ResourcePattern(.topic, "*")), allow(bob, .write, ResourcePattern(.topic, "t"), host: "10.0.0.9")])
        #expect(can(a, alice, .read, .topic, "anything"))
        #expect(can(a, "User:ANONYMOUS", .read, .topic, "x"))
        #expect(!can(a, bob, .write, .topic, "t", host: "10.0.0.1"))
        #expect(can(a, bob, .write, .topic, "t", host: "10.0.0.9"))
    }

    @Test func prefixedPatterns() {
        let a = authz([allow(alice, .write, ResourcePattern(.topic, "team-a.", .prefixed))])
        #expect(can(a, alice, .write, .topic, "team-a.orders"))
        #expect(can(a, alice, .write, .topic, "team-a."))
        #expect(!can(a, alice, .write, .topic, "team-b.orders"))
        #expect(!can(a, alice, .write, .topic, "team-a"))
    }

    @Test func impliedOperations() {
        for op in [AclOperation.read, .write, .delete, .alter] {
            let a = authz([allow(alice, op, ResourcePattern(.topic, "t"))])
            #expect(can(a, alice, .describe, .topic, "t"), "\(op) implies DESCRIBE")
        }
        let create = authz([allow(alice, .create, ResourcePattern(.topic, "t"))])
        #expect(!can(create, alice, .describe, .topic, "t"))
        let ac = authz([allow(alice, .alterConfigs, ResourcePattern(.topic, "t"))])
        #expect(can(ac, alice, .describeConfigs, .topic, "t"))
        #expect(!can(ac, alice, .alterConfigs, .topic, "u"))
        let all = authz([allow(alice, .all, ResourcePattern.cluster)])
        for op in [AclOperation.clusterAction, .create, .describe, .alter, .idempotentWrite] {
            #expect(can(all, alice, op, .cluster, ResourcePattern.clusterName))
        }
        // READ does not imply WRITE, DESCRIBE does not imply READ.
        let d = authz([allow(alice, .describe, ResourcePattern(.topic, "t")), allow(bob, .read, ResourcePattern(.topic, "t"))])
        #expect(!can(d, alice, .read, .topic, "t"))
        #expect(!can(d, bob, .write, .topic, "t"))
    }

    @Test func superUsersBypassEverythingIncludingDeny() {
        let a = authz([deny("User:*", .all, ResourcePattern(.topic, "*"))], superUsers: ["User:admin"])
        #expect(can(a, "User:admin", .write, .topic, "t"))
        #expect(can(a, "User:admin", .clusterAction, .cluster, ResourcePattern.clusterName))
        #expect(!can(a, alice, .write, .topic, "t"))
    }

    @Test func allowEveryoneOnlyWhenNoAclAppliesToTheResource() {
        let a = authz([allow(bob, .read, ResourcePattern(.topic, "guarded")), allow(bob, .read, ResourcePattern(.topic, "pre", .prefixed))],
                      allowEveryone: true)
        #expect(can(a, alice, .write, .topic, "open"))        // no ACL at all: allowed
        #expect(!can(a, alice, .read, .topic, "guarded"))     // an ACL exists (for someone else): denied
        #expect(!can(a, alice, .read, .topic, "prefix-match")) // a prefixed ACL applies
        let strict = authz([], allowEveryone: false)
        #expect(!can(strict, alice, .read, .topic, "open"))
    }

    @Test func authorizeAnyTopicForIdempotentProducers() {
        let none = authz([allow(alice, .read, ResourcePattern(.topic, "t"))])
        #expect(!none.authorizeAny(principal: alice, host: "h", operation: .write, resource: .topic))
        let some = authz([allow(alice, .write, ResourcePattern(.topic, "t"))])
        #expect(some.authorizeAny(principal: alice, host: "h", operation: .write, resource: .topic))
        #expect(!some.authorizeAny(principal: bob, host: "h", operation: .write, resource: .topic))
        let shadowed = authz([allow(alice, .write, ResourcePattern(.topic, "team.x")), deny(alice, .write, ResourcePattern(.topic, "team", .prefixed))])
        #expect(!shadowed.authorizeAny(principal: alice, host: "h", operation: .write, resource: .topic))
        let wildDeny = authz([allow(alice, .write, ResourcePattern(.topic, "t")), deny(alice, .all, ResourcePattern(.topic, "*"))])
        #expect(!wildDeny.authorizeAny(principal: alice, host: "h", operation: .write, resource: .topic))
    }

    @Test func filtersAsKafkasAclBindingFilter() {
        let lit = ResourcePattern(.topic, "orders"), wild = ResourcePattern(.topic, "*"), pre = ResourcePattern(.topic, "ord", .prefixed)
        let g = ResourcePattern(.group, "orders")
        let a = authz([allow(alice, .read, lit), allow(bob, .write, wild), deny(alice, .write, pre), allow(alice, .read, g)])
        #expect(a.bindings(matching: .any).count == 4)
        // A specific pattern type matches the exact name only.
        #expect(a.bindings(matching: AclBindingFilter(resourceType: .topic, name: "orders", patternType: .literal)).map(\.pattern) == [lit])
        // ANY pattern type: exact names of any pattern type.
        #expect(Set(a.bindings(matching: AclBindingFilter(resourceType: .any, name: "orders", patternType: .any)).map(\.pattern)) == [lit, g])
        // MATCH: everything that applies to the topic "orders": literal, wildcard and prefix.
        #expect(Set(a.bindings(matching: AclBindingFilter(resourceType: .topic, name: "orders", patternType: .match)).map(\.pattern)) == [lit, wild, pre])
        #expect(a.bindings(matching: AclBindingFilter(principal: bob)).map(\.pattern) == [wild])
        #expect(a.bindings(matching: AclBindingFilter(permission: .deny)).map(\.pattern) == [pre])
        #expect(a.bindings(matching: AclBindingFilter(operation: .read)).count == 2)
        #expect(a.bindings(matching: AclBindingFilter(host: "10.0.0.1")).isEmpty)
        #expect(AclBindingFilter(resourceType: .unknown).problem != nil)
        #expect(AclBindingFilter(operation: .unknown).problem != nil)
        #expect(AclBindingFilter.any.problem == nil)
    }

    @Test func bindingValidation() {
        func binding(_ t: AclResourceType, _ n: String, _ p: AclPatternType = .literal, principal: String = "User:a",
                     op: AclOperation = .read, perm: AclPermission = .allow) -> AclBinding {
            AclBinding(ResourcePattern(t, n, p), AclEntry(principal: principal, operation: op, permission: perm))
        }
        #expect(binding(.topic, "t").problem == nil)
        #expect(binding(.cluster, "kafka-cluster").problem == nil)
        #expect(binding(.cluster, "other").problem != nil)
        #expect(binding(.any, "t").problem != nil)
        #expect(binding(.topic, "t", .match).problem != nil)
        #expect(binding(.topic, "a/b").problem != nil)
        #expect(binding(.topic, "").problem != nil)
        #expect(binding(.topic, "t", op: .any).problem != nil)
        #expect(binding(.topic, "t", perm: .any).problem != nil)
        #expect(binding(.topic, "t", principal: "alice").problem != nil)
    }

    @Test func everyApiHasAnAclRuleOrIsExplicitlyUnchecked() {
        let covered = Set(ApiAcls.table.keys.map(\.api))
        for api in KafkaAPI.allCases where !ApiAcls.unchecked.contains(api) {
            #expect(covered.contains(api), "\(api.name) has no entry in ApiAcls.table")
        }
        #expect(ApiAcls.operation(.produce, .topic) == .write)
        #expect(ApiAcls.operation(.fetch, .cluster, .follower) == .clusterAction)
        #expect(ApiAcls.deniedError(.group) == .groupAuthorizationFailed)
        #expect(ApiAcls.deniedError(.transactionalId) == .transactionalIdAuthorizationFailed)
    }
}

@Suite struct AclZnodeTests {
    @Test func pathsAsKafkaZkMode() {
        #expect(AclZnodes.path(ResourcePattern(.topic, "orders")) == "/kafka-acl/Topic/orders")
        #expect(AclZnodes.path(ResourcePattern(.group, "g", .prefixed)) == "/kafka-acl-extended/prefixed/Group/g")
        #expect(AclZnodes.path(ResourcePattern.cluster) == "/kafka-acl/Cluster/kafka-cluster")
        #expect(AclZnodes.path(ResourcePattern(.transactionalId, "tx")) == "/kafka-acl/TransactionalId/tx")
        #expect(AclZnodes.path(ResourcePattern(.topic, "x", .match)) == nil)
    }

    @Test func jsonRoundTripAndKafkasOwnPayload() throws {
        let kafka = #"{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"},{"host":"10.0.0.1","permissionType":"Deny","operation":"IdempotentWrite","principal":"User:bob"}]}"#
        let entries = try AclZnodes.decode(Array(kafka.utf8))
        #expect(entries == [AclEntry(principal: "User:alice", host: "*", operation: .read, permission: .allow),
                            AclEntry(principal: "User:bob", host: "10.0.0.1", operation: .idempotentWrite, permission: .deny)])
        #expect(try AclZnodes.decode(AclZnodes.encode(entries)) == entries)
        let one = String(decoding: AclZnodes.encode([AclEntry(principal: "User:alice", operation: .read, permission: .allow)]), as: UTF8.self)
        #expect(one == #"{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}"#)
        #expect(try AclZnodes.decode([]) == [])
    }

    @Test func corruptPayloadsAreRefused() {
        for bad in [#"{"version":2,"acls":[]}"#, #"{"version":1}"#, #"{"version":1,"acls":[{"principal":"User:a"}]}"#,
                    #"{"version":1,"acls":[{"principal":"User:a","permissionType":"Maybe","operation":"Read","host":"*"}]}"#,
                    #"{"version":1,"acls":[{"principal":"User:a","permissionType":"Allow","operation":"Any","host":"*"}]}"#, "nope"] {
            #expect(throws: AclZnodes.DecodeError.self) { try AclZnodes.decode(Array(bad.utf8)) }
        }
    }

    @Test func changeNotifications() {
        let lit = AclZnodes.changeNotification(ResourcePattern(.topic, "a:b"))
        #expect(lit.dir == "/kafka-acl-changes")
        #expect(String(decoding: lit.data, as: UTF8.self) == "TOPIC:a:b")
        #expect(AclZnodes.parseChange(dir: lit.dir, lit.data) == ResourcePattern(.topic, "a:b"))
        let ext = AclZnodes.changeNotification(ResourcePattern(.transactionalId, "tx-", .prefixed))
        #expect(ext.dir == "/kafka-acl-extended-changes")
        #expect(String(decoding: ext.data, as: UTF8.self) == #"{"version":1,"resourceType":"TRANSACTIONAL_ID","name":"tx-","patternType":"PREFIXED"}"#)
        #expect(AclZnodes.parseChange(dir: ext.dir, ext.data) == ResourcePattern(.transactionalId, "tx-", .prefixed))
        // Older brokers wrote the Scala names; both parse.
        #expect(AclZnodes.parseChange(dir: "/kafka-acl-changes", Array("Topic:orders".utf8)) == ResourcePattern(.topic, "orders"))
        #expect(AclZnodes.parseChange(dir: "/kafka-acl-changes", Array("TRANSACTIONAL_ID:tx".utf8)) == ResourcePattern(.transactionalId, "tx"))
        #expect(AclZnodes.parseChange(dir: "/kafka-acl-changes", Array("garbage".utf8)) == nil)
        #expect(AclZnodes.parseChange(dir: "/kafka-acl-extended-changes", Array("{}".utf8)) == nil)
    }
}

@Suite struct AclAuthorizerUpdateTests {
    @Test func setAndRemoveKeepPrefixedPatternsCurrent() {
        var a = AclAuthorizer()
        let p = ResourcePattern(.topic, "team.", .prefixed)
        let e = AclEntry(principal: "User:a", operation: .read, permission: .allow)
        a.set(p, [e])
        #expect(a.authorize(principal: "User:a", host: "h", operation: .read, resource: .topic, name: "team.x"))
        #expect(a.bindingCount == 1)
        a.set(p, [])
        #expect(!a.authorize(principal: "User:a", host: "h", operation: .read, resource: .topic, name: "team.x"))
        #expect(a.acls.isEmpty)
        a.replaceAll([p: [e], ResourcePattern(.group, "team.", .prefixed): [e]])
        #expect(a.authorize(principal: "User:a", host: "h", operation: .read, resource: .group, name: "team.g"))
        a.replaceAll([:])
        #expect(!a.authorize(principal: "User:a", host: "h", operation: .read, resource: .group, name: "team.g"))
    }
}
