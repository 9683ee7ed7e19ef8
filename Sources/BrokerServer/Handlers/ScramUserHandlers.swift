import BrokerCore
import CoordClient
import Protocol
import Sasl

/// DescribeUserScramCredentials / AlterUserScramCredentials over `/config/users/<user>` in Kafka's
/// ZK-mode form, with a `/config/changes` notification per changed user as Kafka writes.
extension RequestHandler {
    func handleDescribeUserScramCredentials(_ ctx: RequestContext, _ r: Protocol.DescribeUserScramCredentialsRequest) {
        typealias Resp = DescribeUserScramCredentialsResponse
        guard let c = session.connectedClient else {
            return ctx.reply(Resp(errorCode: .coordinatorNotAvailable, errorMessage: "coordd is not reachable"))
        }
        var results: [Resp.DescribeUserScramCredentialsResult] = []
        func infos(_ user: String) -> [Resp.CredentialInfo]? {
            guard let (d, _) = try? c.getData(ScramUsers.path(user)), let p = try? TopicConfigPayload.decode(d) else { return nil }
            let list = SaslMechanism.allCases.compactMap { m -> Resp.CredentialInfo? in
                guard let id = m.scramTypeId, let v = p.config[m.rawValue], let cred = ScramCredential.parseKafkaConfigValue(v) else { return nil }
                return .init(mechanism: id, iterations: Int32(clamping: cred.iterations))
            }
            return list.isEmpty ? nil : list
        }
        if let users = r.users, !users.isEmpty {
            var seen: Set<String> = []
            for u in users.map(\.name) {
                if !seen.insert(u).inserted {
                    results.append(.init(user: u, errorCode: .duplicateResource, errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request: \(u)"))
                } else if let i = infos(u) {
                    results.append(.init(user: u, errorCode: .none, credentialInfos: i))
                } else {
                    results.append(.init(user: u, errorCode: .resourceNotFound, errorMessage: "Attempt to describe a user credential that does not exist: \(u)"))
                }
            }
        } else {
            let names = ((try? c.getChildren("/config/users")) ?? []).compactMap(ScramUsers.desanitize).sorted()
            for u in names { if let i = infos(u) { results.append(.init(user: u, errorCode: .none, credentialInfos: i)) } }
        }
        ctx.reply(Resp(results: results))
    }

    func handleAlterUserScramCredentials(_ ctx: RequestContext, _ r: Protocol.AlterUserScramCredentialsRequest) {
        typealias Result = AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult
        var changes: [String: [(SaslMechanism, ScramCredential?)]] = [:]
        var errors: [String: (ErrorCode, String)] = [:]
        var order: [String] = []
        let all: [(String, Int8, ScramCredential?, String?)] =
            r.deletions.map { ($0.name, $0.mechanism, nil, nil) } + r.upsertions.map { u in
                let it = Int(u.iterations)
                guard let m = SaslMechanism(scramTypeId: u.mechanism), let d = m.scramDigest else { return (u.name, u.mechanism, nil, "bad") }
                guard it >= SaslMechanism.scramMinIterations, it <= SaslMechanism.scramMaxIterations else {
                    return (u.name, u.mechanism, nil, "iterations")
                }
                guard !u.salt.isEmpty, u.saltedPassword.count == d.outputSize else { return (u.name, u.mechanism, nil, "salted") }
                return (u.name, u.mechanism, ScramCredential(digest: d, saltedPassword: u.saltedPassword, salt: u.salt, iterations: it), nil)
            }
        var seen: Set<String> = []
        for (name, mech, cred, problem) in all {
            if !order.contains(name) { order.append(name) }
            guard errors[name] == nil else { continue }
            if name.isEmpty { errors[name] = (.unacceptableCredential, "Username must not be empty"); continue }
            guard let m = SaslMechanism(scramTypeId: mech) else {
                errors[name] = (.unsupportedSaslMechanism, "Unknown SCRAM mechanism"); continue
            }
            if !seen.insert("\(name)\u{0}\(mech)").inserted {
                errors[name] = (.duplicateResource, "A user credential cannot be altered twice in the same request"); continue
            }
            switch problem {
            case "iterations"?:
                errors[name] = (.unacceptableCredential, "Iterations must be between \(SaslMechanism.scramMinIterations) and \(SaslMechanism.scramMaxIterations)"); continue
            case .some:
                errors[name] = (.unacceptableCredential, "Salt and salted password do not fit \(m.rawValue)"); continue
            case nil: break
            }
            changes[name, default: []].append((m, cred))
        }
        guard let c = session.connectedClient else {
            return ctx.reply(AlterUserScramCredentialsResponse(results: order.map { Result(user: $0, errorCode: .coordinatorNotAvailable, errorMessage: "coordd is not reachable") }))
        }
        var results: [Result] = []
        for name in order {
            if let (e, m) = errors[name] { results.append(Result(user: name, errorCode: e, errorMessage: m)); continue }
            let (e, m) = apply(changes[name] ?? [], user: name, client: c)
            results.append(Result(user: name, errorCode: e, errorMessage: m))
        }
        ctx.reply(AlterUserScramCredentialsResponse(results: results))
    }

    /// Read-modify-write of one user's config node (conditional on its version), then the change notification.
    private func apply(_ changes: [(SaslMechanism, ScramCredential?)], user: String, client c: CoordClient) -> (ErrorCode, String?) {
        let path = ScramUsers.path(user)
        for _ in 0..<10 {
            var config: [String: String] = [:]
            var version: Int32 = -1
            if let (d, st) = try? c.getData(path) {
                config = (try? TopicConfigPayload.decode(d).config) ?? [:]
                version = st.version
            }
            for (m, cred) in changes {
                if let cred {
                    config[m.rawValue] = cred.kafkaConfigValue
                } else if config.removeValue(forKey: m.rawValue) == nil {
                    return (.resourceNotFound, "Attempt to delete a user credential that does not exist")
                }
            }
            let data = TopicConfigPayload(config: config).encoded()
            do {
                if version < 0 {
                    _ = try c.create(path, data: data)
                } else {
                    _ = try c.setData(path, data: data, version: version)
                }
                _ = try? c.create(ZkPaths.configChangePrefix, data: ConfigChangePayload.encode(entityPath: "users/" + ScramUsers.sanitize(user)),
                                  mode: .persistentSequential)
                logger.info("SCRAM credentials of \(user) changed: \(changes.map { ($0.1 == nil ? "-" : "+") + $0.0.rawValue })")
                return (.none, nil)
            } catch let e as CoordError where e.isNodeExists || e.isBadVersion {
                continue
            } catch {
                return (.coordinatorNotAvailable, "coordd: \(error)")
            }
        }
        return (.coordinatorNotAvailable, "concurrent changes to \(user)")
    }
}
