import Protocol
import Transport

/// A blocking request/response connection to another broker (replica fetchers, controller channels).
/// One request at a time; any error closes the socket and the next call reconnects.
final class KafkaBlockingClient: @unchecked Sendable {
    let host: String
    let port: Int
    let clientId: String
    private var socket: BlockingSocket?
    private var correlation: Int32 = 0

    init(host: String, port: Int, clientId: String) {
        self.host = host
        self.port = port
        self.clientId = clientId
    }

    func send<M: KafkaRequestMessage>(_ request: M, version: Int16, timeoutMs: Int) throws -> M.Response {
        do {
            let s: BlockingSocket
            if let cur = socket { s = cur } else {
                s = try BlockingSocket(host: host, port: port, connectTimeoutMillis: 3000, ioTimeoutMillis: timeoutMs)
                socket = s
            }
            s.setTimeout(timeoutMs)
            correlation &+= 1
            let frame = try KafkaRequestFrame.encode(request, version: version, correlationId: correlation, clientId: clientId)
            try s.sendAll(frame)
            let resp = try s.readFrame()
            let (header, body) = try KafkaResponseFrame.decode(M.Response.self, frame: resp, version: version)
            guard header.correlationId == correlation else { throw DecodeError.invalidValue("correlation id mismatch") }
            return body
        } catch {
            close()
            throw error
        }
    }

    func close() {
        socket?.close()
        socket = nil
    }
}
