import Foundation
import FuzzTargets
import Testing

/// The corpora in Tests/FuzzTests/Corpus (seeded from real client traffic by deploy/fuzz/capture.py,
/// grown by deploy/fuzz.sh) replayed through every fuzz target: an input that once crashed a
/// decoder stays here and keeps it fixed.
@Suite struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus").path

    static func inputs(_ target: String) -> [String] {
        let dir = corpus + "/" + target
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func everyCorpusInputReplaysCleanly(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let files = Self.inputs(name)
        // A target without inputs would pass without testing anything.
        #expect(files.count >= 2, "corpus of \(name) has \(files.count) inputs; run deploy/fuzz/capture.py")
        for f in files {
            let data = try #require(FileManager.default.contents(atPath: f))
            target.run([UInt8](data))
        }
    }

    /// Inputs near each corpus file (bytes flipped, cut short, doubled) also return: a cheap
    /// stand-in for fuzzing in every test run.
    @Test(arguments: FuzzTargets.all.map(\.name))
    func mutationsOfTheCorpusReplayCleanly(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        var rng = SystemRandomNumberGenerator()
        for f in Self.inputs(name).prefix(100) {
            let data = [UInt8](try #require(FileManager.default.contents(atPath: f)))
            guard !data.isEmpty else { continue }
            for _ in 0..<20 {
                var m = data
                m[Int.random(in: 0..<m.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                target.run(m)
            }
            target.run(Array(data.prefix(data.count / 2)))
            target.run(data + data)
        }
    }
}
