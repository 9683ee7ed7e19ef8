#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// Settings of one TLS endpoint, in PEM files (what ZooKeeper's PEM key/trust stores hold).
public struct TLSConfig: Sendable, Equatable {
    public enum ClientAuth: String, Sendable, Equatable {
        case none, want, need
    }
    public enum ProtocolVersion: String, Sendable, Equatable, CaseIterable, Comparable {
        case tls12 = "TLSv1.2"
        case tls13 = "TLSv1.3"
        var openSSL: Int32 { self == .tls12 ? TLS1_2_VERSION : TLS1_3_VERSION }
        public static func < (a: Self, b: Self) -> Bool { a.openSSL < b.openSSL }
    }

    /// Certificate chain (leaf first); required on a server, optional on a client (client certificate).
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    /// Decrypts an encrypted private key.
    public var privateKeyPassword: String?
    /// CA certificates that sign the peer: client certificates on a server, the server on a client.
    /// A client without one uses the system's trust store.
    public var trustPath: String?
    /// The same as PEM text instead of files (Kafka's `ssl.keystore.certificate.chain`, `ssl.keystore.key`,
    /// `ssl.truststore.certificates`); used when the matching path is nil.
    public var certificateChainPEM: String?
    public var privateKeyPEM: String?
    public var trustPEM: String?
    /// A PKCS#12 key store (key + chain) and its password, instead of the PEM identity.
    public var keyStorePKCS12Path: String?
    public var keyStorePKCS12Password: String?
    /// A PKCS#12 trust store (its certificates are the CAs) and its password, instead of `trustPath`.
    public var trustStorePKCS12Path: String?
    public var trustStorePKCS12Password: String?
    /// Server only: whether a client certificate is asked for (`want`) or required (`need`).
    public var clientAuth = ClientAuth.none
    public var protocols: Set<ProtocolVersion> = [.tls12, .tls13]
    /// IANA cipher suite names (as Java spells them, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); empty: OpenSSL's defaults.
    public var cipherSuites: [String] = []
    /// Client only: the name the server's certificate must carry (DNS name or IP); nil skips the check.
    public var verifyHostname: String?
    /// Client only: whether the certificate must name the server (Kafka's endpoint identification).
    public var checkHostname = true
    /// Client only: whether the server's certificate is verified at all.
    public var verifyPeer = true
    /// A handshake that takes longer, or that reads more bytes, closes the connection.
    public var handshakeTimeoutMillis = 10_000
    public var maxHandshakeBytes = 256 * 1024

    public init() {}

    /// Whether a certificate and key are configured (from any source).
    public var hasIdentity: Bool {
        keyStorePKCS12Path != nil || (certificateChainPath ?? certificateChainPEM) != nil && (privateKeyPath ?? privateKeyPEM) != nil
    }
    /// Whether CA certificates are configured (from any source).
    public var hasTrust: Bool { trustPath != nil || trustPEM != nil || trustStorePKCS12Path != nil }
}

public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// `what` plus OpenSSL's queued reasons (and clears the queue).
    static func openSSL(_ what: String) -> TLSError { TLSError(what + TLSError.drainQueue()) }

    static func drainQueue() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            if reasons.count < 4 { reasons.append(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }) }
        }
        return reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
    }
}

/// An OpenSSL SSL_CTX built from a `TLSConfig`; makes one `TLSSession` per connection.
/// Immutable once built, and OpenSSL locks the context internally, so loops on any thread may share it.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let isServer: Bool
    public let config: TLSConfig
    /// Where handshake and record failures are reported (once per connection).
    public let logger: (@Sendable (String) -> Void)?

    public convenience init(server config: TLSConfig, logger: (@Sendable (String) -> Void)? = nil) throws(TLSError) {
        guard config.hasIdentity else {
            throw TLSError("a TLS server needs a certificate chain and a private key")
        }
        if config.clientAuth != .none && !config.hasTrust {
            throw TLSError("client authentication '\(config.clientAuth.rawValue)' needs a trust store (CA certificates) to verify clients with")
        }
        try self.init(isServer: true, config: config, logger: logger)
    }

    public convenience init(client config: TLSConfig, logger: (@Sendable (String) -> Void)? = nil) throws(TLSError) {
        try self.init(isServer: false, config: config, logger: logger)
    }

    /// OpenSSL set up without its atexit cleanup, before anything else of it runs (see the shim).
    public static let openSSLReady: Void = coordkafka_openssl_init()

    private init(isServer: Bool, config: TLSConfig, logger: (@Sendable (String) -> Void)?) throws(TLSError) {
        _ = Self.openSSLReady
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.openSSL("SSL_CTX_new")
        }
        self.ctx = ctx
        self.isServer = isServer
        self.config = config
        self.logger = logger
        coordkafka_ssl_ctx_set_defaults(ctx)
        guard let lo = config.protocols.min(), let hi = config.protocols.max() else { throw TLSError("no TLS protocol enabled") }
        guard coordkafka_ssl_ctx_set_proto_range(ctx, lo.openSSL, hi.openSSL) == 1 else { throw TLSError.openSSL("protocol range") }
        try setCipherSuites(config.cipherSuites)
        try loadIdentity(config)
        try loadTrust(config, isServer: isServer)
    }

    deinit { SSL_CTX_free(ctx) }

    private func loadIdentity(_ config: TLSConfig) throws(TLSError) {
        if try loadIdentityFromStore(config) { return }
        guard let chain = config.certificateChainPath else { return }
        guard SSL_CTX_use_certificate_chain_file(ctx, chain) == 1 else { throw TLSError.openSSL("cannot load certificate chain \(chain)") }
        guard let key = config.privateKeyPath else { throw TLSError("certificate \(chain) given without its private key") }
        // OpenSSL's default password callback reads the password from the user data pointer.
        let loaded: Int32 = (config.privateKeyPassword ?? "").withCString { pw in
            SSL_CTX_set_default_passwd_cb_userdata(ctx, config.privateKeyPassword == nil ? nil : UnsafeMutableRawPointer(mutating: pw))
            defer { SSL_CTX_set_default_passwd_cb_userdata(ctx, nil) }
            return SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM)
        }
        guard loaded == 1 else {
            throw TLSError.openSSL("cannot load private key \(key)\(config.privateKeyPassword == nil ? " (encrypted keys need a password)" : "")")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw TLSError.openSSL("private key \(key) does not match certificate \(chain)") }
    }

    private func loadTrust(_ config: TLSConfig, isServer: Bool) throws(TLSError) {
        if try loadTrustFromStore(config, isServer: isServer) {
        } else if let ca = config.trustPath {
            guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1 else { throw TLSError.openSSL("cannot load trust store \(ca)") }
        } else if !isServer && config.verifyPeer {
            SSL_CTX_set_default_verify_paths(ctx)
        }
        if isServer {
            switch config.clientAuth {
            case .none: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            case .want: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            case .need: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
            // Tells clients which CAs we accept, so they pick the right certificate.
            if config.clientAuth != .none, let ca = config.trustPath, let names = SSL_load_client_CA_file(ca) {
                SSL_CTX_set_client_CA_list(ctx, names)
            }
        } else {
            SSL_CTX_set_verify(ctx, config.verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        }
    }

    /// IANA names to OpenSSL's: TLS 1.3 suites go to SSL_CTX_set_ciphersuites, the rest to the cipher list.
    private func setCipherSuites(_ names: [String]) throws(TLSError) {
        guard !names.isEmpty else { return }
        let known = Self.knownCiphers()
        var tls13: [String] = [], older: [String] = []
        for name in names {
            if coordkafka_ssl_is_tls13_cipher_name(name) == 1 {
                tls13.append(name)
            } else if let openSSLName = known[name] {
                older.append(openSSLName)
            } else {
                throw TLSError("cipher suite \(name) is not known to OpenSSL")
            }
        }
        // An empty list disables that protocol's suites, which is what naming only the others means.
        guard SSL_CTX_set_ciphersuites(ctx, tls13.joined(separator: ":")) == 1 else { throw TLSError.openSSL("TLS 1.3 cipher suites \(tls13)") }
        if older.isEmpty {
            if config.protocols.contains(.tls12) && !config.protocols.contains(.tls13) { throw TLSError("no TLS 1.2 cipher suite named") }
            _ = SSL_CTX_set_cipher_list(ctx, "")
            ERR_clear_error()
        } else {
            guard SSL_CTX_set_cipher_list(ctx, older.joined(separator: ":")) == 1 else { throw TLSError.openSSL("cipher suites \(older)") }
        }
    }

    /// IANA standard name -> OpenSSL name of every cipher OpenSSL offers.
    private static func knownCiphers() -> [String: String] {
        var map: [String: String] = [:]
        guard let tmp = SSL_CTX_new(TLS_method()) else { return map }
        defer { SSL_CTX_free(tmp) }
        _ = SSL_CTX_set_cipher_list(tmp, "ALL:@SECLEVEL=0")
        guard let ssl = SSL_new(tmp) else { return map }
        defer { SSL_free(ssl) }
        for i in 0..<coordkafka_ssl_cipher_count(ssl) {
            guard let cipher = coordkafka_ssl_cipher_at(ssl, i) else { continue }
            if let std = SSL_CIPHER_standard_name(cipher), let name = SSL_CIPHER_get_name(cipher) {
                map[String(cString: std)] = String(cString: name)
            }
        }
        return map
    }
}
