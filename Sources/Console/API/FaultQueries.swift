import Dispatch
import Foundation
import KafkaClient
import Observability
import Synchronization

/// The Faults page: each daemon's fault controls (`GET /faults` on its admin server, docs/operations.md)
/// and forwarding one injection to one of them. Only the configured admin endpoints are ever
/// contacted, and only with a fault name and query made of plain characters.
struct FaultQueries: Sendable {
    let endpoints: [HostPort]
    /// Sent as X-Fault-Token when the daemons require one (`faults.token`).
    let token: String?

    struct Action: Encodable, Sendable { let name: String; let help: String }
    struct Daemon: Encodable, Sendable {
        let endpoint: String
        let daemon: String
        let reachable: Bool
        let enabled: Bool
        let active: [String: String]
        let actions: [Action]
        let error: String?
    }
    struct Outcome: Encodable, Sendable { let endpoint: String; let fault: String; let result: String }
    struct Refused: Error, CustomStringConvertible { let description: String; let status: Int }

    func list() -> [Daemon] {
        let found = Mutex<[Int: Daemon]>([:])
        DispatchQueue.concurrentPerform(iterations: endpoints.count) { i in
            let d = Self.describe(endpoints[i])
            found.withLock { $0[i] = d }
        }
        return found.withLock { m in (0..<endpoints.count).compactMap { m[$0] } }
    }

    static func describe(_ ep: HostPort) -> Daemon {
        do {
            let r = try HTTPClient.get(host: ep.host, port: ep.port, "/faults", timeoutMillis: 1500)
            guard r.status == 200 else {
                return Daemon(endpoint: ep.description, daemon: ep.description, reachable: true, enabled: false, active: [:], actions: [],
                              error: r.status == 404 ? "no fault controls on this endpoint" : "HTTP \(r.status)")
            }
            let v = try JSONValue.parse(r.text)
            let actions = (v["actions"]?.array ?? []).compactMap { a in
                a["name"]?.string.map { Action(name: $0, help: a["help"]?.string ?? "") }
            }
            var active: [String: String] = [:]
            for (k, val) in v["active"]?.object ?? [] { active[k] = val.string ?? "" }
            return Daemon(endpoint: ep.description, daemon: v["daemon"]?.string ?? ep.description, reachable: true,
                          enabled: v["enabled"] == .bool(true), active: active, actions: actions, error: nil)
        } catch {
            return Daemon(endpoint: ep.description, daemon: ep.description, reachable: false, enabled: false, active: [:], actions: [],
                          error: "\(error)")
        }
    }

    func inject(endpoint: String, fault: String, query: String) throws(Refused) -> Outcome {
        guard let ep = endpoints.first(where: { $0.description == endpoint }) else {
            throw Refused(description: "\(endpoint) is not one of admin.endpoints", status: 400)
        }
        let plain = { (s: String, extra: String) in
            s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || extra.unicodeScalars.contains($0)) }
        }
        guard !fault.isEmpty, fault.count <= 32, plain(fault, "-_"), query.count <= 200, plain(query, "=&-_.") else {
            throw Refused(description: "fault names and queries are letters, digits and =&-_. only", status: 400)
        }
        do {
            let c = try HTTPClient(host: ep.host, port: ep.port, timeoutMillis: 3000)
            defer { c.close() }
            let r = try c.request("POST", "/faults/\(fault)" + (query.isEmpty ? "" : "?" + query), headers: token.map { [("X-Fault-Token", $0)] } ?? [])
            guard r.status == 200 else { throw Refused(description: "\(endpoint): \(r.text)", status: (400..<500).contains(r.status) ? r.status : 502) }
            return Outcome(endpoint: endpoint, fault: fault, result: (try? JSONValue.parse(r.text))?["result"]?.string ?? r.text)
        } catch let e as Refused {
            throw e
        } catch {
            throw Refused(description: "\(endpoint): \(error)", status: 502)
        }
    }
}
