import Console
import Foundation
import Transport

// console console.properties — serves the operator console until SIGTERM/SIGINT.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("console: \(message)\n".utf8))
    exit(2)
}

TerminationSignals.block()  // before any thread starts, so all inherit the mask
let args = CommandLine.arguments
guard args.count == 2 else { fail("usage: console console.properties") }
guard let text = try? String(contentsOfFile: args[1], encoding: .utf8) else { fail("cannot read \(args[1])") }
var config: ConsoleConfig
do {
    config = try ConsoleConfig.parse(text)
    try config.resolveZooKeeperSasl { path in [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
} catch {
    fail("bad config \(args[1]): \(error)")
}
let app: ConsoleApp
let port: Int
do {
    app = try ConsoleApp(config: config)
    port = try app.start()
} catch {
    fail("cannot start: \(error)")
}
var mode = config.readOnly ? "read-only" : "read-write (admin.token required for writes)"
// Who the console is on each side, never a password.
if let s = config.kafkaSasl { mode += "; brokers: SASL \(s.mechanism.rawValue) as \(s.username)" }
if config.kafkaTLS != nil { mode += "; brokers over TLS" }
if let z = config.zookeeperSasl { mode += "; coordd: SASL DIGEST-MD5 as \(z.login.user)" }
if config.zookeeperTLS != nil { mode += "; coordd over TLS" }
FileHandle.standardError.write(Data("console: started on http://\(config.listenHost):\(port)/ (\(mode))\n".utf8))
_ = TerminationSignals.wait()
app.stop()
FileHandle.standardError.write(Data("console: stopped\n".utf8))
