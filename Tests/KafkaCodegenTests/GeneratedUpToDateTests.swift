import Foundation
import Testing
@testable import KafkaCodegenLib

/// The committed generated codecs must be what the generator makes of the committed schema.
@Suite struct GeneratedUpToDateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func committedOutputIsUpToDate() throws {
        let files = try KafkaCodegen.generate(packageRoot: Self.root)
        // Generate into a temp dir (as `swift run KafkaCodegen` would) and diff it with the tree.
        let tmp = NSTemporaryDirectory() + "kafkacodegen-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try KafkaCodegen.write(files, packageRoot: tmp)
        for dir in [KafkaCodegen.outputDir, KafkaCodegen.testOutputDir] {
            let fresh = Set(try FileManager.default.contentsOfDirectory(atPath: tmp + "/" + dir))
            let committed = Set(try FileManager.default.contentsOfDirectory(atPath: Self.root + "/" + dir))
            #expect(fresh == committed, "run `swift run KafkaCodegen`: file sets differ in \(dir)")
            for name in fresh.intersection(committed) {
                let a = try String(contentsOfFile: tmp + "/" + dir + "/" + name, encoding: .utf8)
                let b = try String(contentsOfFile: Self.root + "/" + dir + "/" + name, encoding: .utf8)
                let same = a == b  // not `a == b` inline: the report would print both files
                #expect(same, "run `swift run KafkaCodegen`: \(dir)/\(name) is stale")
            }
        }
    }

    @Test func versionRanges() throws {
        #expect(try VersionRange.parse("3+") == VersionRange(lo: 3, hi: nil))
        #expect(try VersionRange.parse("0-12") == VersionRange(lo: 0, hi: 12))
        #expect(try VersionRange.parse("5") == VersionRange(lo: 5, hi: 5))
        #expect(throws: SchemaError.self) { try VersionRange.parse("7-2") }
        #expect(condition(VersionRange(lo: 3, hi: nil), within: VersionRange(lo: 0, hi: 8)) == .expr("version >= 3"))
        #expect(condition(VersionRange(lo: 0, hi: 12), within: VersionRange(lo: 4, hi: 11)) == .always)
        #expect(condition(VersionRange(lo: 13, hi: nil), within: VersionRange(lo: 0, hi: 12)) == .never)
    }

    @Test func schemaErrorsAreReported() {
        #expect(throws: SchemaError.self) { try SchemaParser.parse("api X key=1\nrequest XRequest\n", file: "x") }
        #expect(throws: SchemaError.self) {
            try SchemaParser.parse("api X key=1 valid=0-1 broker=0-1\nrequest XRequest\n   a int32\n", file: "x")
        }
    }
}

/// The validator refuses schemas whose decoders could be made to allocate from a lying count.
@Suite struct ValidatorTests {
    static let head = "api X key=1 valid=0-2 flexible=none broker=0-1\nrequest XRequest\n"
    static let tail = "response XResponse\n  e error\n"

    @Test func emptyArrayElementIsRefused() throws {
        let bad = try SchemaParser.parse(Self.head + "  items [Item]\n    late int32 v=2+\n" + Self.tail, file: "x")
        #expect(throws: SchemaError.self) { try Validator.check(bad) }
        let good = try SchemaParser.parse(Self.head + "  items [Item]\n    id int32\n" + Self.tail, file: "x")
        try Validator.check(good)
    }

    @Test func brokerRangeMustLieInsideValid() throws {
        let bad = try SchemaParser.parse(Self.head.replacingOccurrences(of: "broker=0-1", with: "broker=0-5")
            + "  a int32\n" + Self.tail, file: "x")
        #expect(throws: SchemaError.self) { try Validator.check(bad) }
    }
}
