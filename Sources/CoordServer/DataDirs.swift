import Storage

/// Opening coordd's data directories at start, the same in standalone and ensemble mode.
enum DataDirs {
    /// Creates both directories when missing; returns the snapshot store and its newest valid snapshot.
    static func open(fs: any FileSystem, snapDir: String, logDir: String) throws
        -> (snapshots: SnapshotStore, newest: (zxid: Int64, payload: [UInt8])?) {
        try fs.makeDirectories(snapDir)
        try fs.makeDirectories(logDir)
        let snapshots = SnapshotStore(fs: fs, directory: snapDir)
        return (snapshots, try snapshots.loadNewest())
    }

    /// The txn log with the records after `base`; a torn or corrupt tail is cut and reported.
    static func recoverLog(fs: any FileSystem, logDir: String, after base: Int64, logger: (String) -> Void) throws
        -> (log: TxnLog, records: [TxnLog.Record]) {
        let log = TxnLog(fs: fs, directory: logDir)
        let records = try log.recover(after: base)
        if log.report.truncatedBytes > 0 {
            logger("txn log: cut \(log.report.truncatedBytes) bytes of torn or corrupt tail, removed \(log.report.removedFiles) files")
        }
        return (log, records)
    }
}
