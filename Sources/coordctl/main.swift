import CoordCore
import Foundation
import Protocol
import Storage

// coordctl — inspects coordd's files offline, as ZooKeeper's zkTxnLogToolkit.sh and
// zkSnapShotToolkit.sh do for theirs:
//   coordctl txnlog-dump DATADIR/version-2/log.N     every transaction, one line each
//   coordctl snapshot-dump DATADIR/version-2/snapshot.N [-d]   every znode's Stat (-d: and its data), the sessions

func fail(_ message: String, _ status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("coordctl: \(message)\n".utf8))
    exit(status)
}

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first, args.count >= 2 else {
    fail("usage: coordctl txnlog-dump LOGFILE | coordctl snapshot-dump SNAPSHOTFILE [-d]")
}
let path = args[1]
guard let bytes = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }) else { fail("cannot read \(path)", 1) }

switch command {
case "txnlog-dump":
    guard let (records, validEnd) = TxnLog.inspect(bytes) else { fail("\(path) is not a coordd txn log (bad header)", 1) }
    print("coordd transaction log \(path)")
    var undecodable = 0
    for r in records {
        do {
            print(TxnFormat.line(zxid: r.zxid, txn: try CoordTxn(bytes: r.bytes)))
        } catch {
            undecodable += 1
            print("zxid \(TxnFormat.hex(r.zxid)) undecodable (\(r.bytes.count) bytes): \(error)")
        }
    }
    if validEnd < bytes.count {
        print("stopped at offset \(validEnd) of \(bytes.count): a torn or corrupt record (recovery cuts a torn tail of the newest file and refuses damage before the end)")
    } else {
        print("EOF reached after \(records.count) txns.")
    }
    exit(undecodable == 0 && validEnd == bytes.count ? 0 : 1)
case "snapshot-dump":
    guard let snap = SnapshotStore.decode(bytes) else { fail("\(path) is not a coordd snapshot, or its checksum does not match", 1) }
    let tree: DataTree
    do { tree = try DataTree(snapshot: snap.payload) } catch { fail("\(path): cannot decode the tree: \(error)", 1) }
    print(TxnFormat.snapshot(tree, zxid: snap.zxid, withData: args.dropFirst(2).contains("-d")), terminator: "")
default:
    fail("unknown command '\(command)' (txnlog-dump, snapshot-dump)")
}
