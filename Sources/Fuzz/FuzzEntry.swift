import CFuzzMain
import Foundation
import FuzzTargets

// Fuzz <target> [libFuzzer options] [CORPUS_DIR...]
//   built by deploy/fuzz.sh (--sanitize=fuzzer): coverage-guided fuzzing through libFuzzer;
//   a normal build: replays the given files and directories through the target.
// Fuzz list: the targets.

/// The target named by the first argument, fixed once: libFuzzer calls plain C functions.
enum Chosen {
    static let target: FuzzTarget = {
        let args = CommandLine.arguments
        // libFuzzer re-runs itself (merge, fork) without the name: the environment carries it.
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? (args.count > 1 ? args[1] : "")
        guard let t = FuzzTargets.named(name) else {
            let names = FuzzTargets.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
            FileHandle.standardError.write(Data("usage: Fuzz <target> [libFuzzer options] [corpus dirs]\ntargets:\n\(names)\n".utf8))
            exit(args.count > 1 && args[1] == "list" ? 0 : 2)
        }
        return t
    }()
}

/// libFuzzer: picks the target and hides its name from libFuzzer's own argument parsing.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>,
                      _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let inherited = ProcessInfo.processInfo.environment["FUZZ_TARGET"] != nil
    setenv("FUZZ_TARGET", Chosen.target.name, 1)
    guard !inherited, argc.pointee > 1, let args = argv.pointee else { return 0 }
    args[1] = args[0]
    argv.pointee = args + 1
    argc.pointee -= 1
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    Chosen.target.run(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Every regular file named, or found directly in a directory named, through the target.
@_cdecl("coordkafka_fuzz_replay")
public func replayMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    let target = Chosen.target
    var files: [String] = []
    for path in CommandLine.arguments.dropFirst(2) where !path.hasPrefix("-") {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
        if isDir.boolValue {
            for f in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() { files.append(path + "/" + f) }
        } else {
            files.append(path)
        }
    }
    let start = Date()
    for f in files {
        guard let d = FileManager.default.contents(atPath: f) else { continue }
        target.run([UInt8](d))
    }
    print("\(target.name): replayed \(files.count) inputs in \(String(format: "%.2f", Date().timeIntervalSince(start))) s (not a fuzzing build)")
    return 0
}
