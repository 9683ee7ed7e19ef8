import Foundation
import Glibc

/// Line-oriented stderr logging; one write(2) per line so threads do not interleave within a line.
public struct Logger: Sendable {
    public enum Level: Int, Sendable { case debug, info, warn, error }
    public let prefix: String
    public let minLevel: Level

    public init(prefix: String, minLevel: Level = .info) {
        self.prefix = prefix
        self.minLevel = minLevel
    }

    public func debug(_ s: @autoclosure () -> String) { log(.debug, s()) }
    public func info(_ s: @autoclosure () -> String) { log(.info, s()) }
    public func warn(_ s: @autoclosure () -> String) { log(.warn, s()) }
    public func error(_ s: @autoclosure () -> String) { log(.error, s()) }

    private func log(_ level: Level, _ s: String) {
        guard level.rawValue >= minLevel.rawValue else { return }
        let name = ["DEBUG", "INFO", "WARN", "ERROR"][level.rawValue]
        Logger.raw("[\(Logger.timestamp())] \(name) \(prefix)\(s)\n")
    }

    /// Writes text to stderr as is.
    public static func raw(_ s: String) {
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = tv.tv_sec
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%02d:%02d:%02d.%03d", tmv.tm_hour, tmv.tm_min, tmv.tm_sec, Int(tv.tv_usec / 1000))
    }
}
