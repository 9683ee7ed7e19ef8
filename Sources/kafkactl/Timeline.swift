import Foundation
import Observability

/// `kafkactl timeline --admin HOST:PORT[,HOST:PORT...] [--since MS|--last SECONDS] [--kind K[,K]] [--follow]`:
/// the timelines of every listed coordd and broker admin endpoint as one ordered story. With
/// --follow it then streams (SSE) from each and prints events in time order, holding each for
/// half a second so events from different daemons that arrive out of order are still sorted.
struct TimelineCommand {
    var endpoints: [(String, Int)] = []
    var since: Int64?
    var kinds: String?
    var follow = false

    static let usage = "usage: kafkactl timeline --admin HOST:PORT[,HOST:PORT...] [--since EPOCH_MS | --last SECONDS] [--kind KIND[,KIND]] [--follow]"

    static func parse(_ args: [String]) throws -> TimelineCommand {
        var c = TimelineCommand()
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw CLIUsage("\(args[i - 1]) needs a value\n\(usage)") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--admin", "--bootstrap-admin":
                for ep in try value().split(separator: ",") {
                    guard let colon = ep.lastIndex(of: ":"), let port = Int(ep[ep.index(after: colon)...]) else { throw CLIUsage("bad endpoint \(ep)\n\(usage)") }
                    c.endpoints.append((String(ep[..<colon]), port))
                }
            case "--since":
                guard let v = Int64(try value()) else { throw CLIUsage("--since takes milliseconds since the epoch") }
                c.since = v
            case "--last":
                guard let v = Double(try value()) else { throw CLIUsage("--last takes seconds") }
                c.since = Int64((Date().timeIntervalSince1970 - v) * 1000)
            case "--kind": c.kinds = try value()
            case "--follow", "-f": c.follow = true
            case "--help", "-h": throw CLIUsage(usage)
            default: throw CLIUsage("unknown option \(args[i])\n\(usage)")
            }
            i += 1
        }
        if c.endpoints.isEmpty { throw CLIUsage("--admin is required\n\(usage)") }
        return c
    }

    var query: String {
        var q: [String] = []
        if let since { q.append("since=\(since)") }
        if let kinds { q.append("kind=\(kinds.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? kinds)") }
        return q.isEmpty ? "" : "?" + q.joined(separator: "&")
    }

    func run() throws {
        var lists: [[TimelineEvent]] = []
        for (h, p) in endpoints {
            do {
                let r = try HTTPClient.get(host: h, port: p, "/timeline" + query)
                guard r.status == 200 else { throw CLIUsage("\(h):\(p) answered \(r.status): \(r.text)") }
                lists.append(try TimelineMerge.events(fromResponse: r.text))
            } catch let e as CLIUsage {
                throw e
            } catch {
                FileHandle.standardError.write(Data("kafkactl: \(h):\(p): \(error)\n".utf8))
            }
        }
        if lists.isEmpty && !follow { throw CLIFailure("no admin endpoint answered") }
        let merged = TimelineMerge.merge(lists)
        for e in merged { print(TimelineMerge.line(e)) }
        guard follow else { return }
        let printer = FollowPrinter(already: merged)
        for (h, p) in endpoints {
            let t = Thread { [query] in
                while true {
                    do {
                        let c = try HTTPClient(host: h, port: p, timeoutMillis: 60_000)
                        let head = try c.get("/timeline/stream" + query)
                        guard head.status == 200 else { throw CLIUsage("\(h):\(p) answered \(head.status)") }
                        while true {
                            let ev = try c.readEvent()
                            if let j = try? JSONValue.parse(ev.data), let e = TimelineEvent(json: j) { printer.add(e) }
                        }
                    } catch {
                        FileHandle.standardError.write(Data("kafkactl: stream \(h):\(p): \(error); reconnecting\n".utf8))
                        Thread.sleep(forTimeInterval: 1)
                    }
                }
            }
            t.start()
        }
        while true {
            Thread.sleep(forTimeInterval: 0.25)
            printer.printDue()
        }
    }
}

/// Holds streamed events 500 ms, then prints them merged (once each).
final class FollowPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [TimelineEvent] = []
    private var printed: Set<String>

    init(already: [TimelineEvent]) { printed = Set(already.map { "\($0.daemon)#\($0.seq)" }) }

    func add(_ e: TimelineEvent) { lock.withLock { pending.append(e) } }

    func printDue() {
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - 500
        let due = lock.withLock { () -> [TimelineEvent] in
            let d = pending.filter { $0.time <= cutoff }
            pending.removeAll { $0.time <= cutoff }
            return d
        }
        // Written straight to fd 1 (unbuffered), so a piped `--follow` shows events as they come.
        for e in TimelineMerge.merge([due]) where printed.insert("\(e.daemon)#\(e.seq)").inserted {
            FileHandle.standardOutput.write(Data((TimelineMerge.line(e) + "\n").utf8))
        }
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct CLIUsage: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
