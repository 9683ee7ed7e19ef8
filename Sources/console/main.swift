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
let config: ConsoleConfig
do { config = try ConsoleConfig.parse(text) } catch { fail("bad config \(args[1]): \(error)") }
let app: ConsoleApp
let port: Int
do {
    app = try ConsoleApp(config: config)
    port = try app.start()
} catch {
    fail("cannot start: \(error)")
}
let mode = config.readOnly ? "read-only" : "read-write (admin.token required for writes)"
FileHandle.standardError.write(Data("console: started on http://\(config.listenHost):\(port)/ (\(mode))\n".utf8))
_ = TerminationSignals.wait()
app.stop()
FileHandle.standardError.write(Data("console: stopped\n".utf8))
