import Foundation
import Testing
import Transport
@testable import Observability

/// A live server on a loopback port with a few routes.
final class TestServer {
    let server: HTTPServer
    let port: Int
    let timeline = Timeline(daemon: "test", directory: nil)

    init(limits: HTTPLimits = HTTPLimits()) throws {
        var r = Router()
        r.get("/hello", sync: { _ in .text("hello") })
        r.get("/commands/*", sync: { req in .text("cmd " + req.routeRest) })
        r.add("POST", "/echo") { req, resp in resp.respond(HTTPResponse(status: 200, body: req.body)) }
        r.get("/slow") { _, resp in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { resp.respond(.text("slow")) }
        }
        let reg = MetricsRegistry()
        reg.counter("hits_total", help: "hits").inc()
        r.addMetrics(reg)
        r.addTimeline(timeline)
        r.addHealth(ready: { nil })
        server = HTTPServer(router: r, limits: limits)
        port = try server.start(host: "127.0.0.1", port: 0)
    }

    func client() throws -> HTTPClient { try HTTPClient(host: "127.0.0.1", port: port) }

    func stop() { server.stop() }
}

@Suite struct HTTPServerTests {
    @Test func keepAliveServesManyRequestsOnOneConnection() throws {
        let s = try TestServer()
        defer { s.stop() }
        let c = try s.client()
        defer { c.close() }
        for _ in 0..<5 {
            let r = try c.get("/hello")
            #expect(r.status == 200 && r.text == "hello")
            #expect(r.header("connection") == "keep-alive")
        }
        let cmd = try c.get("/commands/mntr")
        #expect(cmd.text == "cmd mntr")
        let echo = try c.request("POST", "/echo", body: Array("ping".utf8))
        #expect(echo.text == "ping")
        let head = try c.request("HEAD", "/hello")
        #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "5")
    }

    @Test func answers404And405() throws {
        let s = try TestServer()
        defer { s.stop() }
        let c = try s.client()
        defer { c.close() }
        #expect(try c.get("/nope").status == 404)
        let r = try c.request("DELETE", "/hello")
        #expect(r.status == 405)
        #expect(r.header("allow") == "GET, HEAD")
        #expect(try c.request("POST", "/hello").status == 405, "connection still usable after 4xx from a route")
        #expect(try c.get("/commands/").status == 404)
    }

    @Test func pipelinedRequestsAnsweredInOrderEvenWhenSlow() throws {
        let s = try TestServer()
        defer { s.stop() }
        let c = try s.client()
        defer { c.close() }
        try c.send(raw: Array("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.0\r\n\r\n".utf8))
        #expect(try c.readResponse().text == "slow")
        #expect(try c.readResponse().text == "hello")
        let last = try c.readResponse()
        #expect(last.text == "slow" && last.header("connection") == "close")
        #expect(c.waitForClose(), "HTTP/1.0 without keep-alive closes")
    }

    @Test func malformedInputGets400AndCloseAndServerStaysUp() throws {
        let s = try TestServer()
        defer { s.stop() }
        let cases: [(String, Int)] = [
            ("BLAH\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n", 413),
            ("GET /hello HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "y", count: 9000) + "\r\n\r\n", 431),
            ("GET /hello HTTP/3\r\nHost: x\r\n\r\n", 505),
            ("\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\r\n\r\n", 400),  // a TLS hello
        ]
        for (raw, want) in cases {
            let c = try s.client()
            try c.send(raw: Array(raw.utf8))
            let r = try c.readResponse()
            #expect(r.status == want, "\(raw.prefix(30))")
            #expect(c.waitForClose())
            c.close()
        }
        #expect(try HTTPClient.get(host: "127.0.0.1", port: s.port, "/hello").text == "hello")
    }

    @Test func slowAndIdleClientsAreClosed() throws {
        var l = HTTPLimits()
        l.idleTimeoutMillis = 300
        l.requestTimeoutMillis = 600
        let s = try TestServer(limits: l)
        defer { s.stop() }
        let idle = try s.client()
        let start = MonotonicClock.millis()
        #expect(idle.waitForClose(timeoutMillis: 3000))
        #expect(MonotonicClock.millis() - start < 2500)
        let slow = try s.client()
        for ch in "GET /hello HT" { try slow.send(raw: Array(String(ch).utf8)); usleep(30_000) }
        let r = try slow.readResponse()
        #expect(r.status == 408)
    }

    @Test func perConnectionRateLimitAnswers429() throws {
        var l = HTTPLimits()
        l.requestsPerSecond = 5
        let s = try TestServer(limits: l)
        defer { s.stop() }
        let c = try s.client()
        defer { c.close() }
        var statuses: [Int] = []
        for _ in 0..<6 { statuses.append(try c.get("/hello").status) }
        #expect(statuses == [200, 200, 200, 200, 200, 429])
        #expect(c.waitForClose())
    }

    @Test func connectionLimitAnswers503() throws {
        var l = HTTPLimits()
        l.maxConnections = 2
        let s = try TestServer(limits: l)
        defer { s.stop() }
        let a = try s.client(), b = try s.client()
        defer { a.close(); b.close() }
        _ = try a.get("/hello")
        _ = try b.get("/hello")
        let c = try s.client()
        defer { c.close() }
        #expect(try c.readResponse().status == 503)
    }

    @Test func timelineEndpointsAndStream() throws {
        let s = try TestServer()
        defer { s.stop() }
        s.timeline.record("election.started", clocks: [("epoch", 1)])
        let c = try s.client()
        defer { c.close() }
        let j = try JSONValue.parse(try c.get("/timeline?kind=election").text)
        #expect(j["events"]?.array?.first?["kind"]?.string == "election.started")
        #expect(try c.get("/timeline?since=abc").status == 400)
        #expect(try c.get("/metrics").text.contains("hits_total 1"))
        #expect(try c.get("/health/ready").status == 200)

        let sc = try s.client()
        defer { sc.close() }
        let head = try sc.get("/timeline/stream?kind=leader&since=0")
        #expect(head.status == 200 && head.header("content-type") == "text/event-stream")
        // Give the subscription a moment, then record.
        usleep(100_000)
        s.timeline.record("session.created")
        s.timeline.record("leader.elected", fields: [("id", .int(2))])
        let ev = try sc.readEvent()
        #expect(ev.event == "leader.elected")
        #expect(try JSONValue.parse(ev.data)["fields"]?["id"]?.int == 2)
        sc.close()
        // The server drops the subscription when the reader goes.
        usleep(200_000)
        s.timeline.record("leader.elected")
        #expect(s.server.connectionCount == 1)
    }
}
