import Foundation
import Protocol
import Testing
import Transport

/// A coordd process on a free port with its own temp dataDir (removed by `cleanup`).
final class CoordProcess: @unchecked Sendable {
    let dir: String
    private(set) var port: Int
    var proc: ManagedProcess?
    /// Extra environment of the coordd process (SERVER_JVMFLAGS for SASL tests).
    let env: [String: String]?

    /// `prepare` runs once zoo.cfg is written, before the first start (to lay down an existing data dir).
    init(extraConfig: String = "", tickTime: Int = 200, allFourLetterWords: Bool = true, env: [String: String]? = nil,
         prepare: ((_ dir: String) throws -> Void)? = nil) throws {
        dir = try ProcessHarness.makeTempDir("coordd")
        port = 0
        self.env = env
        // A free port can be taken by another test before coordd binds it: then another one.
        for attempt in 1...3 {
            port = try ProcessHarness.freePort()
            // Tests read every four-letter word unless they check the default (srvr only).
            let cfg = "tickTime=\(tickTime)\ndataDir=\(dir)/data\nclientPort=\(port)\nclientPortAddress=127.0.0.1\nautopurge.purgeInterval=1\n"
                + (allFourLetterWords ? "4lw.commands.whitelist=*\n" : "") + extraConfig
            try cfg.write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
            if attempt == 1 { try prepare?(dir) }
            do {
                try start()
                return
            } catch let e as HarnessError where attempt < 3 && e.description.contains("Address already in use") {
                continue
            }
        }
    }

    func start() throws {
        guard let bin = ProcessHarness.binary("coordd") else {
            throw HarnessError("coordd binary not found: build it (swift build) or set COORDKAFKA_BIN")
        }
        let p = try ManagedProcess(bin, [dir + "/zoo.cfg"], stderrPath: dir + "/stderr-\(UInt32.random(in: 0...UInt32.max)).log", env: env)
        proc = p
        guard p.waitForLine(containing: "serving clients on", timeout: 20) != nil else {
            let text = p.stderrText
            p.kill9()
            throw HarnessError("coordd did not start: \(text)")
        }
    }

    func cleanup() {
        proc?.kill9()
        ProcessHarness.removeDir(dir)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A minimal blocking ZooKeeper client over the Jute codecs, for raw protocol tests.
final class RawZK {
    let sock: BlockingSocket
    var xid: Int32 = 0
    let connect: ZKConnectResponse
    var events: [ZKWatcherEvent] = []

    init(port: Int, timeout: Int32 = 10_000, sessionId: Int64 = 0, password: [UInt8] = [UInt8](repeating: 0, count: 16), lastZxid: Int64 = 0) throws {
        sock = try BlockingSocket(host: "127.0.0.1", port: port, ioTimeoutMillis: 10_000)
        try sock.sendFrame(ZKConnectRequest(lastZxidSeen: lastZxid, timeout: timeout, sessionId: sessionId, password: password).encoded())
        connect = try ZKConnectResponse.decode(try sock.readFrame())
    }

    /// Sends a request and returns its reply, collecting watch notifications that arrive first.
    func call(_ req: ZKRequest) throws -> (header: ZKReplyHeader, response: ZKResponse?) {
        xid += 1
        let x: Int32 = req == .ping ? ZKXid.ping : xid
        try sock.sendAll(req.frame(xid: x))
        return try readReply(op: req.opCode)
    }

    func readReply(op: Int32) throws -> (header: ZKReplyHeader, response: ZKResponse?) {
        while true {
            var r = ByteReader(try sock.readFrame())
            let h = try ZKReplyHeader(jute: &r)
            if h.xid == ZKXid.notification {
                events.append(try ZKWatcherEvent(jute: &r))
                continue
            }
            if h.err != 0 { return (h, nil) }
            return (h, try ZKResponse.decode(op: op, &r))
        }
    }

    func create(_ path: String, _ data: String = "", flags: Int32 = 0) throws -> Int32 {
        try call(.create(ZKCreate(path: path, data: Array(data.utf8), flags: flags))).header.err
    }

    func getData(_ path: String, watch: Bool = false) throws -> String? {
        guard case .data(let d, _)? = try call(.getData(path: path, watch: watch)).response else { return nil }
        return String(decoding: d ?? [], as: UTF8.self)
    }

    func close() {
        _ = try? call(.closeSession)
        sock.close()
    }
}

/// Sends a four-letter word and reads the answer until the server closes.
func fourLetterWord(_ word: String, port: Int) throws -> String {
    let s = try BlockingSocket(host: "127.0.0.1", port: port, ioTimeoutMillis: 5000)
    try s.sendAll(Array(word.utf8))
    return String(decoding: try s.readToEnd(), as: UTF8.self)
}
