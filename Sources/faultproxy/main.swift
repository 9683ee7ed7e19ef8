#if canImport(Glibc)
import Glibc
#endif
import FaultProxy
import Transport

// faultproxy LISTEN_PORT TARGET_HOST:PORT [--control PORT]
// Forwards loopback TCP connections to a target and breaks them on command (stdin or the control
// port, one command a line; see FaultCommand.usage). Stops on SIGTERM/SIGINT or EOF on stdin
// when no control port is given.

func log(_ msg: String) {
    let line = Array("faultproxy: \(msg)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ msg: String) -> Never {
    log(msg)
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
var controlPort: Int?
var listenHost = "127.0.0.1"
if let i = args.firstIndex(of: "--control") {
    guard i + 1 < args.count, let p = Int(args[i + 1]), p >= 0, p < 65536 else { fail("--control takes a port") }
    controlPort = p
    args.removeSubrange(i...(i + 1))
}
if let i = args.firstIndex(of: "--listen-host") {
    guard i + 1 < args.count else { fail("--listen-host takes an address") }
    listenHost = args[i + 1]
    args.removeSubrange(i...(i + 1))
}
guard args.count == 2, let listenPort = Int(args[0]), listenPort >= 0, listenPort < 65536,
      let target = parseHostPort(args[1]), target.port > 0 else {
    fail("usage: faultproxy LISTEN_PORT TARGET_HOST:PORT [--control PORT] [--listen-host ADDR]\n" + FaultCommand.usage)
}

TerminationSignals.block()
let proxy: FaultProxy
do {
    proxy = try FaultProxy(listenHost: listenHost, listenPort: listenPort, targetHost: target.host, targetPort: target.port)
} catch {
    fail("cannot listen on \(listenHost):\(listenPort): \(error)")
}
var controlText = ""
if let controlPort {
    do {
        controlText = ", control on \(listenHost):\(try proxy.startControl(host: listenHost, port: controlPort))"
    } catch {
        fail("cannot listen for control on \(listenHost):\(controlPort): \(error)")
    }
}
log("listening on \(listenHost):\(proxy.port) -> \(target.host):\(target.port)\(controlText)")

// Commands from stdin; replies on stdout.
final class StdinReader: @unchecked Sendable {
    let proxy: FaultProxy
    let stopOnEOF: Bool
    init(_ p: FaultProxy, stopOnEOF: Bool) { proxy = p; self.stopOnEOF = stopOnEOF }
    func run() {
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let reply = Array((proxy.execute(line: String(line.prefix(FaultCommand.maxLineLength + 1))) + "\n").utf8)
            _ = reply.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        if stopOnEOF { kill(getpid(), SIGTERM) }
    }
}
let reader = StdinReader(proxy, stopOnEOF: controlPort == nil)
var tid = pthread_t()
let ctx = Unmanaged.passRetained(reader).toOpaque()
pthread_create(&tid, nil, { raw in
    guard let raw else { return nil }
    Unmanaged<StdinReader>.fromOpaque(raw).takeRetainedValue().run()
    return nil
}, ctx)
pthread_detach(tid)

_ = TerminationSignals.wait()
proxy.stop()
log("stopped")
exit(0)
