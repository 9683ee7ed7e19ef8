import Foundation
import Testing
@testable import Spawn

@Suite struct ChildProcessTests {
    private func tempFile(_ name: String) -> String {
        NSTemporaryDirectory() + "spawn-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
    }

    @Test func reportsExitStatusAndSignal() throws {
        #expect(try ChildProcess("/bin/sh", ["-c", "exit 7"]).waitUntilExit() == 7)
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(sleeper.isRunning)
        #expect(sleeper.terminationStatus == -1)
        sleeper.signal(SIGKILL)
        #expect(sleeper.waitUntilExit() == SIGKILL)
        #expect(!sleeper.isRunning)
    }

    @Test func redirectsStreamsAndSetsEnvironmentAndDirectory() throws {
        let input = tempFile("in"), output = tempFile("out")
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        try "from stdin\n".write(toFile: input, atomically: true, encoding: .utf8)
        let p = try ChildProcess("/bin/sh", ["-c", "cat; echo \"$SPAWN_TEST\"; pwd; echo err >&2"],
                                 environment: ChildProcess.environment(merging: ["SPAWN_TEST": "value"]), directory: "/tmp",
                                 stdin: .file(input), stdout: .file(output, append: true), stderr: .file(output, append: true))
        #expect(p.waitUntilExit() == 0)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "from stdin\nvalue\n/tmp\nerr\n")
    }

    /// The child inherits none of this process's other descriptors (sockets of a test holding
    /// thousands keep their peers from seeing a close otherwise).
    @Test func childGetsOnlyTheStandardStreams() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let output = tempFile("fds")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let p = try ChildProcess("/bin/ls", ["/proc/self/fd"], stdout: .file(output))
        #expect(p.waitUntilExit() == 0)
        let listed = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        // 0-2 and the directory ls is reading.
        #expect(!listed.contains(fds[0]) && !listed.contains(fds[1]), "\(listed)")
        #expect(listed.count == 4, "\(listed)")
    }

    @Test func aMissingExecutableThrows() {
        #expect(throws: ChildProcess.SpawnError.self) { try ChildProcess("/nonexistent/binary", []) }
    }
}
