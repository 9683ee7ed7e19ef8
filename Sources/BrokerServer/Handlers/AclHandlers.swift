import BrokerCore
import Protocol

/// DescribeAcls / CreateAcls / DeleteAcls over the ZK-mode znodes (`AclZnodes`), through the
/// broker's `AclStore`. Reached only with an authorizer and CLUSTER DESCRIBE/ALTER (see
/// `refusedWholeRequest`).
extension RequestHandler {
    /// Bounds one request's work (each creation or matched resource is a coordd round trip).
    static let maxAclsPerRequest = 1000

    func handleDescribeAcls(_ ctx: RequestContext, _ r: DescribeAclsRequest) {
        guard let acls else { return ctx.reply(DescribeAclsResponse(errorCode: .securityDisabled, errorMessage: Self.noAuthorizer)) }
        let f = Self.filter(type: r.resourceTypeFilter, name: r.resourceNameFilter, pattern: ctx.version >= 1 ? r.patternTypeFilter : 3,
                            principal: r.principalFilter, host: r.hostFilter, operation: r.operation, permission: r.permissionType)
        guard let f, f.problem == nil else {
            return ctx.reply(DescribeAclsResponse(errorCode: .invalidRequest, errorMessage: f?.problem ?? "unknown code in the filter"))
        }
        var byResource: [ResourcePattern: [AclEntry]] = [:]
        var order: [ResourcePattern] = []
        for b in acls.authorizer.bindings(matching: f) {
            if byResource[b.pattern] == nil { order.append(b.pattern) }
            byResource[b.pattern, default: []].append(b.entry)
        }
        // v0 cannot express PREFIXED: leave those out rather than show them as literal.
        if ctx.version == 0 { order.removeAll { $0.patternType != .literal } }
        let resources = order.map { p in
            DescribeAclsResponse.DescribeAclsResource(
                resourceType: p.resourceType.rawValue, resourceName: p.name, patternType: p.patternType.rawValue,
                acls: (byResource[p] ?? []).map { .init(principal: $0.principal, host: $0.host, operation: $0.operation.rawValue, permissionType: $0.permission.rawValue) })
        }
        ctx.reply(DescribeAclsResponse(errorCode: .none, errorMessage: nil, resources: resources))
    }

    func handleCreateAcls(_ ctx: RequestContext, _ r: CreateAclsRequest) {
        typealias Result = CreateAclsResponse.AclCreationResult
        guard let acls else {
            return ctx.reply(CreateAclsResponse(results: r.creations.map { _ in Result(errorCode: .securityDisabled, errorMessage: Self.noAuthorizer) }))
        }
        var results = [Result](repeating: .init(errorCode: .none), count: r.creations.count)
        var byResource: [ResourcePattern: [(Int, AclEntry)]] = [:]
        for (i, c) in r.creations.enumerated() {
            if i >= Self.maxAclsPerRequest {
                results[i] = .init(errorCode: .policyViolation, errorMessage: "at most \(Self.maxAclsPerRequest) ACLs per request")
                continue
            }
            let pattern = ctx.version >= 1 ? c.resourcePatternType : AclPatternType.literal.rawValue
            guard let t = AclResourceType(rawValue: c.resourceType), let p = AclPatternType(rawValue: pattern),
                  let o = AclOperation(rawValue: c.operation), let perm = AclPermission(rawValue: c.permissionType) else {
                results[i] = .init(errorCode: .invalidRequest, errorMessage: "unknown resource type, pattern type, operation or permission code")
                continue
            }
            let b = AclBinding(ResourcePattern(t, c.resourceName, p), AclEntry(principal: c.principal, host: c.host, operation: o, permission: perm))
            if let why = b.problem {
                results[i] = .init(errorCode: .invalidRequest, errorMessage: why)
                continue
            }
            byResource[b.pattern, default: []].append((i, b.entry))
        }
        for (pattern, items) in byResource {
            do {
                try acls.modify(pattern, session) { $0.union(items.map(\.1)) }
                logger.info("\(ctx.access.principal) added ACLs on \(pattern): \(items.map { Self.describe($0.1) })")
            } catch {
                for (i, _) in items { results[i] = .init(errorCode: Self.aclWriteError(error), errorMessage: "storing the ACLs of \(pattern): \(error)") }
            }
        }
        ctx.reply(CreateAclsResponse(results: results))
    }

    func handleDeleteAcls(_ ctx: RequestContext, _ r: DeleteAclsRequest) {
        typealias FR = DeleteAclsResponse.DeleteAclsFilterResult
        guard let acls else {
            return ctx.reply(DeleteAclsResponse(filterResults: r.filters.map { _ in FR(errorCode: .securityDisabled, errorMessage: Self.noAuthorizer) }))
        }
        var results: [FR] = []
        var budget = Self.maxAclsPerRequest
        for f in r.filters {
            guard let filter = Self.filter(type: f.resourceTypeFilter, name: f.resourceNameFilter, pattern: ctx.version >= 1 ? f.patternTypeFilter : 3,
                                           principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permission: f.permissionType),
                  filter.problem == nil else {
                results.append(.init(errorCode: .invalidRequest, errorMessage: "invalid filter"))
                continue
            }
            let patterns = Set(acls.authorizer.bindings(matching: filter).map(\.pattern))
            var matched: [DeleteAclsResponse.DeleteAclsMatchingAcl] = []
            var failure: (ErrorCode, String)?
            for p in patterns.sorted(by: { $0.description < $1.description }) {
                budget -= 1
                if budget < 0 { failure = (.policyViolation, "at most \(Self.maxAclsPerRequest) resources per request"); break }
                do {
                    // Matching again on the fresh read: entries added meanwhile by others count too.
                    let removed = try acls.modify(p, session) { current in current.filter { !filter.matches($0) } }
                    for e in removed.sorted(by: { Self.describe($0) < Self.describe($1) }) {
                        matched.append(.init(errorCode: .none, errorMessage: nil, resourceType: p.resourceType.rawValue, resourceName: p.name,
                                             patternType: p.patternType.rawValue, principal: e.principal, host: e.host,
                                             operation: e.operation.rawValue, permissionType: e.permission.rawValue))
                    }
                    if !removed.isEmpty { logger.info("\(ctx.access.principal) removed ACLs on \(p): \(removed.map(Self.describe))") }
                } catch {
                    failure = (Self.aclWriteError(error), "deleting the ACLs of \(p): \(error)")
                    break
                }
            }
            if let (e, m) = failure {
                results.append(.init(errorCode: e, errorMessage: m, matchingAcls: matched))
            } else {
                results.append(.init(errorCode: .none, errorMessage: nil, matchingAcls: matched))
            }
        }
        ctx.reply(DeleteAclsResponse(filterResults: results))
    }

    /// A wire filter; nil when a code is outside Kafka's enums.
    static func filter(type: Int8, name: String?, pattern: Int8, principal: String?, host: String?, operation: Int8, permission: Int8) -> AclBindingFilter? {
        guard let t = AclResourceType(rawValue: type), let p = AclPatternType(rawValue: pattern),
              let o = AclOperation(rawValue: operation), let perm = AclPermission(rawValue: permission) else { return nil }
        return AclBindingFilter(resourceType: t, name: name, patternType: p, principal: principal, host: host, operation: o, permission: perm)
    }

    static func describe(_ e: AclEntry) -> String { "\(e.permission.zkName) \(e.principal) \(e.operation.zkName) from \(e.host)" }

    static func aclWriteError(_ e: Error) -> ErrorCode {
        if case AclStore.WriteError.noSession = e { return .coordinatorNotAvailable }
        return .unknownServerError
    }
}
