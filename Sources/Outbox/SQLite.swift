import CSQLite

public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public var description: String { "sqlite error \(code): \(message)" }
}

/// A value bound to or read from a statement.
public enum SQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case text(String)
}

/// A thin SQLite connection: prepared statements with bound parameters, explicit transactions.
/// Not thread-safe: one connection per thread (each process of the sample opens its own).
public final class SQLiteDB {
    private var db: OpaquePointer?
    public let path: String

    /// Opens (creating) `path` in WAL mode with a busy timeout, so the order service, the relay and
    /// a status reader can use the same file at once.
    public init(path: String, busyTimeoutMs: Int32 = 10_000) throws {
        self.path = path
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw SQLiteError(code: rc, message: "\(path): \(msg)")
        }
        db = handle
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        try execute("PRAGMA journal_mode=WAL")
        // FULL: a committed transaction survives power loss, not only a process kill.
        try execute("PRAGMA synchronous=FULL")
    }

    deinit { sqlite3_close_v2(db) }

    private func error(_ rc: Int32, _ sql: String) -> SQLiteError {
        SQLiteError(code: rc, message: "\(String(cString: sqlite3_errmsg(db))) in \(sql.prefix(80))")
    }

    /// Runs one or more statements without parameters.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: "\(msg) in \(sql.prefix(80))")
        }
    }

    /// Runs a statement; answers its rows (empty for writes).
    @discardableResult
    public func query(_ sql: String, _ params: [SQLValue] = []) throws -> [[SQLValue]] {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        defer { sqlite3_finalize(stmt) }
        // SQLITE_TRANSIENT: SQLite copies the bound text before this call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in params.enumerated() {
            let idx = Int32(i + 1)
            let brc: Int32 = switch p {
            case .null: sqlite3_bind_null(stmt, idx)
            case .int(let v): sqlite3_bind_int64(stmt, idx, v)
            case .text(let s): sqlite3_bind_text(stmt, idx, s, -1, transient)
            }
            guard brc == SQLITE_OK else { throw error(brc, sql) }
        }
        var rows: [[SQLValue]] = []
        while true {
            let step = sqlite3_step(stmt)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw error(step, sql) }
            var row: [SQLValue] = []
            for c in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_NULL: row.append(.null)
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(stmt, c)))
                default: row.append(.text(sqlite3_column_text(stmt, c).map { String(cString: $0) } ?? ""))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Rows changed by the last write.
    public var changes: Int { Int(sqlite3_changes(db)) }

    /// One integer answer (COUNT, MAX); nil for NULL or no row.
    public func scalar(_ sql: String, _ params: [SQLValue] = []) throws -> Int64? {
        guard case .int(let v)? = try query(sql, params).first?.first else { return nil }
        return v
    }

    /// BEGIN IMMEDIATE … COMMIT around `body`; a throw rolls back, so either all of it is stored or none.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

extension SQLValue {
    public var int: Int64? { if case .int(let v) = self { v } else { nil } }
    public var text: String? {
        switch self {
        case .text(let s): s
        case .int(let v): String(v)
        case .null: nil
        }
    }
}
