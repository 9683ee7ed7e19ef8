import Foundation
import KafkaCodegenLib

// `swift run KafkaCodegen [packageRoot]`: regenerates the Kafka codecs from Sources/Protocol/Kafka/Schema.
let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : FileManager.default.currentDirectoryPath
do {
    let files = try KafkaCodegen.generate(packageRoot: root)
    try KafkaCodegen.write(files, packageRoot: root)
    print("KafkaCodegen: \(files.count) files in \(KafkaCodegen.outputDir) and \(KafkaCodegen.testOutputDir)")
} catch {
    FileHandle.standardError.write(Data("KafkaCodegen: \(error)\n".utf8))
    exit(1)
}
