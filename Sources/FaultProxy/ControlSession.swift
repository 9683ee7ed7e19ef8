import Transport

/// One control connection: newline-terminated commands in, one reply line each out. A line over
/// `FaultCommand.maxLineLength` bytes gets an error and the connection is closed.
final class ControlSession {
    private var pending: [UInt8] = []

    static func attach(_ c: Connection, proxy: FaultProxy) {
        let s = ControlSession()
        c.context = s
        c.onRead = { [weak proxy] conn, buf in
            guard let proxy else { conn.close(); return }
            s.received(conn, buf, proxy)
        }
        c.start()
    }

    private func received(_ c: Connection, _ buf: UnsafeRawBufferPointer, _ proxy: FaultProxy) {
        pending.append(contentsOf: buf)
        while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<nl], as: UTF8.self)
            pending.removeFirst(nl + 1)
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            c.write(Array((proxy.run(line: line) + "\n").utf8))
        }
        if pending.count > FaultCommand.maxLineLength {
            c.write(Array("error line longer than \(FaultCommand.maxLineLength) bytes\n".utf8))
            c.closeAfterFlush()
        }
    }
}
