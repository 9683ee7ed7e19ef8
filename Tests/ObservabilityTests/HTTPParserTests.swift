import Testing
@testable import Observability

@Suite struct HTTPParserTests {
    func parse(_ s: String, limits: HTTPLimits = HTTPLimits()) -> HTTPParser.Result {
        var p = HTTPParser(limits: limits)
        p.append(Array(s.utf8))
        return p.next()
    }

    func status(_ s: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
        if case .error(let st, _) = parse(s, limits: limits) { return st }
        return nil
    }

    @Test func parsesRequestWithQueryAndBody() throws {
        guard case .request(let r) = parse("POST /a%20b?kind=election,session&x=1+2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc") else {
            Issue.record("no request"); return
        }
        #expect(r.method == "POST")
        #expect(r.path == "/a b")
        #expect(r.query["kind"] == "election,session")
        #expect(r.query["x"] == "1 2")
        #expect(r.body == Array("abc".utf8))
        #expect(r.keepAlive)
    }

    @Test func waitsForWholeHeadAndBody() {
        var p = HTTPParser(limits: HTTPLimits())
        p.append(Array("GET / HTTP/1.1\r\nHost: h\r\n".utf8))
        guard case .needMore = p.next() else { Issue.record("expected needMore"); return }
        p.append(Array("\r\n".utf8))
        guard case .request = p.next() else { Issue.record("expected request"); return }
        #expect(p.bufferedBytes == 0)
    }

    @Test func pipelinedRequestsComeOneByOne() {
        var p = HTTPParser(limits: HTTPLimits())
        p.append(Array("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.0\r\n\r\n".utf8))
        guard case .request(let a) = p.next(), case .request(let b) = p.next() else { Issue.record("two requests"); return }
        #expect(a.path == "/1" && b.path == "/2")
        #expect(!b.keepAlive)
    }

    @Test func malformedRequestsGetTheirStatus() {
        #expect(status("GARBAGE\r\n\r\n") == 400)
        #expect(status("GET /\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n") == 400)
        #expect(status("G(T / HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
        #expect(status("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505)
        #expect(status("GET / HTTP/1.1\r\n\r\n") == 400, "1.1 needs Host")
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n") == 400, "bare LF inside a header")
        #expect(status("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
        #expect(status("GET /%ff HTTP/1.1\r\nHost: h\r\n\r\n") == 400, "not UTF-8 once decoded")
        #expect(status("GET nopath HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") == 501)
        #expect(status("\u{0}\u{1}\u{2}\u{ff}\r\n\r\n") == 400)
    }

    @Test func limitsGive413And431() {
        var l = HTTPLimits()
        l.maxHeaderBytes = 100
        l.maxBodyBytes = 10
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: l) == 413)
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 200) + "\r\n\r\n", limits: l) == 431)
        // No terminator yet but already too long: answer now, do not buffer without bound.
        #expect(status("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200), limits: l) == 431)
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var p = HTTPParser(limits: HTTPLimits())
            let n = Int.random(in: 0..<300, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if Bool.random() { bytes = Array("GET / HTTP/1.1\r\n".utf8) + bytes + [13, 10, 13, 10] }
            p.append(bytes)
            for _ in 0..<4 { if case .needMore = p.next() { break } }
        }
    }
}
