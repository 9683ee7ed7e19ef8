import Protocol
import Sasl
import Transport

/// A blocking request/response connection to another broker (replica fetchers, controller channels).
/// One request at a time; any error closes the socket and the next call reconnects.
final class KafkaBlockingClient: @unchecked Sendable {
    let host: String
    let port: Int
    let clientId: String
    private var socket: BlockingSocket?
    private var correlation: Int32 = 0
    /// The broker's own credentials when the inter-broker listener is SASL.
    let sasl: InterBrokerSasl?
    /// The broker's TLS client side when the inter-broker listener is SSL/SASL_SSL.
    let tls: TLSContext?

    init(host: String, port: Int, clientId: String, sasl: InterBrokerSasl? = nil, tls: TLSContext? = nil) {
        self.tls = tls
        self.host = host
        self.port = port
        self.clientId = clientId
        self.sasl = sasl
    }

    private func roundTrip<M: KafkaRequestMessage>(_ s: BlockingSocket, _ request: M, version: Int16) throws -> M.Response {
        correlation &+= 1
        try s.sendAll(try KafkaRequestFrame.encode(request, version: version, correlationId: correlation, clientId: clientId))
        let (header, body) = try KafkaResponseFrame.decode(M.Response.self, frame: try s.readFrame(), version: version)
        guard header.correlationId == correlation else { throw DecodeError.invalidValue("correlation id mismatch") }
        return body
    }

    /// SaslHandshake v1 then SaslAuthenticate rounds, as a Kafka client does on a fresh connection.
    private func authenticate(_ s: BlockingSocket, _ a: InterBrokerSasl) throws {
        let hs = try roundTrip(s, SaslHandshakeRequest(mechanism: a.mechanism.rawValue), version: 1)
        guard hs.errorCode == .none else { throw SaslClientError("SaslHandshake \(a.mechanism.rawValue): \(hs.errorCode)") }
        func step(_ token: [UInt8]) throws -> [UInt8] {
            let r = try roundTrip(s, SaslAuthenticateRequest(authBytes: token), version: 1)
            guard r.errorCode == .none else { throw SaslClientError("SASL authentication failed: \(r.errorMessage ?? "\(r.errorCode)")") }
            return r.authBytes
        }
        if let d = a.mechanism.scramDigest {
            var c = ScramClient(digest: d, user: a.username, password: a.password)
            let first = try step(c.firstMessage())
            // Two statements: `c.verify(serverFinal: step(c.finalMessage(…)))` would read `c` before
            // finalMessage stored the expected server signature in it.
            let final = try step(try c.finalMessage(serverFirst: first))
            try c.verify(serverFinal: final)
        } else {
            _ = try step(PlainServer.clientToken(user: a.username, password: a.password))
        }
    }

    func send<M: KafkaRequestMessage>(_ request: M, version: Int16, timeoutMs: Int) throws -> M.Response {
        do {
            let s: BlockingSocket
            if let cur = socket { s = cur } else {
                s = try BlockingSocket(host: host, port: port, connectTimeoutMillis: 3000, ioTimeoutMillis: timeoutMs)
                // One deadline for the whole handshake: the context's handshake bound.
                if let tls { try s.startTLS(tls, serverName: host) }
                if let sasl { try authenticate(s, sasl) }
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
