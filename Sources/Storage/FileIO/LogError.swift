#if canImport(Glibc)
import Glibc
#endif
import Protocol

/// Errors of the storage layer (every `FileSystem` throws `.io`). The broker maps them to Kafka
/// error codes (corruptRecord → CORRUPT_MESSAGE 2, recordTooLarge → MESSAGE_TOO_LARGE 10,
/// offsetOutOfRange → OFFSET_OUT_OF_RANGE 1, offline/io → KAFKA_STORAGE_ERROR 56).
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(op: String, path: String, errno: Int32)
    case corruptFile(path: String, reason: String)
    case segmentMissing(path: String)
    /// An earlier I/O failure took the log offline; it serves nothing until reopened.
    case offline(String)
    case corruptRecord(RecordBatchError)
    case recordTooLarge(Int)
    case offsetOutOfRange(requested: Int64, logStart: Int64, logEnd: Int64)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .io(op, path, e): return "\(op) \(path): \(String(cString: strerror(e))) (errno \(e))"
        case let .corruptFile(path, why): return "corrupt \(path): \(why)"
        case let .segmentMissing(path): return "segment file missing: \(path)"
        case let .offline(why): return "log offline: \(why)"
        case let .corruptRecord(e): return "corrupt record batch: \(e)"
        case let .recordTooLarge(n): return "record batch of \(n) bytes exceeds max.message.bytes"
        case let .offsetOutOfRange(o, s, e): return "offset \(o) outside [\(s), \(e)]"
        case let .invalidArgument(s): return s
        }
    }

    /// A write refused for lack of space (ENOSPC, EDQUOT) that changed nothing the log relies on:
    /// the operation is refused and may be retried once space returns, without taking the log
    /// offline. Failed fsyncs never count: after one the kernel may have dropped the dirty pages.
    public var isOutOfSpace: Bool {
        guard case let .io(op, _, e) = self, e == ENOSPC || e == EDQUOT else { return false }
        return !op.contains("sync")
    }
}
