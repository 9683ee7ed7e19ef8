#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// Key and trust material that is not a PEM file: inline PEM text and PKCS#12 stores.
extension TLSContext {
    /// Loads the identity from a PKCS#12 store or inline PEM; false when neither is configured.
    func loadIdentityFromStore(_ config: TLSConfig) throws(TLSError) -> Bool {
        if let path = config.keyStorePKCS12Path {
            let (key, cert, chain) = try Self.readPKCS12(path, password: config.keyStorePKCS12Password)
            defer { EVP_PKEY_free(key); X509_free(cert); coordkafka_x509_stack_free(chain) }
            guard let key, let cert else { throw TLSError("PKCS#12 key store \(path) holds no private key with its certificate") }
            try useIdentity(key: key, leaf: cert, chain: (0..<coordkafka_x509_stack_count(chain)).compactMap { coordkafka_x509_stack_at(chain, $0) }, what: path)
            return true
        }
        guard config.certificateChainPath == nil, let chainText = config.certificateChainPEM else { return false }
        let certs = try Self.certificates(fromPEM: chainText, what: "certificate chain")
        defer { certs.forEach { X509_free($0) } }
        guard let leaf = certs.first else { throw TLSError("the certificate chain holds no certificate") }
        let key: OpaquePointer
        if let keyPath = config.privateKeyPath {
            guard let k = Self.readKey(file: keyPath, password: config.privateKeyPassword) else {
                throw TLSError.openSSL("cannot load private key \(keyPath)")
            }
            key = k
        } else {
            guard let text = config.privateKeyPEM else { throw TLSError("certificate chain given without its private key") }
            guard let k = Self.readKey(pem: Self.normalizedPEM(text), password: config.privateKeyPassword) else {
                throw TLSError.openSSL("cannot read the private key\(config.privateKeyPassword == nil ? " (encrypted keys need a password)" : "")")
            }
            key = k
        }
        defer { EVP_PKEY_free(key) }
        try useIdentity(key: key, leaf: leaf, chain: Array(certs.dropFirst()), what: "the inline key store")
        return true
    }

    /// Loads CA certificates from a PKCS#12 store or inline PEM; false when neither is configured.
    func loadTrustFromStore(_ config: TLSConfig, isServer: Bool) throws(TLSError) -> Bool {
        var cas: [OpaquePointer] = []
        if let path = config.trustStorePKCS12Path {
            let (key, cert, chain) = try Self.readPKCS12(path, password: config.trustStorePKCS12Password)
            EVP_PKEY_free(key)
            if let cert { cas.append(cert) }
            for i in 0..<coordkafka_x509_stack_count(chain) {
                if let c = coordkafka_x509_stack_at(chain, i), X509_up_ref(c) == 1 { cas.append(c) }
            }
            coordkafka_x509_stack_free(chain)
            if cas.isEmpty { throw TLSError("PKCS#12 trust store \(path) holds no certificate") }
        } else if config.trustPath == nil, let text = config.trustPEM {
            cas = try Self.certificates(fromPEM: text, what: "trust store certificates")
            if cas.isEmpty { throw TLSError("the trust store certificates hold no certificate") }
        } else {
            return false
        }
        defer { cas.forEach { X509_free($0) } }
        guard let store = SSL_CTX_get_cert_store(ctx) else { throw TLSError("SSL_CTX_get_cert_store") }
        for ca in cas {
            guard X509_STORE_add_cert(store, ca) == 1 else { throw TLSError.openSSL("cannot add a trusted certificate") }
            // The CA names a server sends in its CertificateRequest, so clients pick the right certificate.
            if isServer && config.clientAuth != .none { _ = SSL_CTX_add_client_CA(ctx, ca) }
        }
        return true
    }

    private func useIdentity(key: OpaquePointer, leaf: OpaquePointer, chain: [OpaquePointer], what: String) throws(TLSError) {
        guard SSL_CTX_use_certificate(ctx, leaf) == 1 else { throw TLSError.openSSL("cannot use the certificate of \(what)") }
        for c in chain {
            // The context takes ownership of an extra chain certificate: hand it its own reference.
            guard X509_up_ref(c) == 1, coordkafka_ssl_ctx_add_extra_chain_cert(ctx, c) == 1 else {
                throw TLSError.openSSL("cannot add a chain certificate of \(what)")
            }
        }
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1 else { throw TLSError.openSSL("cannot use the private key of \(what)") }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw TLSError.openSSL("the private key of \(what) does not match its certificate") }
    }

    /// (key, leaf, other certificates) of a PKCS#12 file, each owned by the caller.
    private static func readPKCS12(_ path: String, password: String?) throws(TLSError) -> (OpaquePointer?, OpaquePointer?, OpaquePointer?) {
        guard let bio = BIO_new_file(path, "rb") else { throw TLSError.openSSL("cannot open PKCS#12 store \(path)") }
        defer { BIO_free(bio) }
        guard let p12 = d2i_PKCS12_bio(bio, nil) else { throw TLSError.openSSL("\(path) is not a PKCS#12 store") }
        defer { PKCS12_free(p12) }
        var key: OpaquePointer?, cert: OpaquePointer?, chain: OpaquePointer?
        guard PKCS12_parse(p12, password, &key, &cert, &chain) == 1 else {
            throw TLSError.openSSL("cannot open PKCS#12 store \(path) (wrong password?)")
        }
        return (key, cert, chain)
    }

    private static func readKey(file: String, password: String?) -> OpaquePointer? {
        guard let bio = BIO_new_file(file, "r") else { return nil }
        defer { BIO_free(bio) }
        return readKey(bio: bio, password: password)
    }

    private static func readKey(pem: String, password: String?) -> OpaquePointer? {
        withMemoryBIO(pem) { readKey(bio: $0, password: password) }
    }

    /// With a nil callback OpenSSL takes the user-data pointer as the password.
    private static func readKey(bio: OpaquePointer, password: String?) -> OpaquePointer? {
        (password ?? "").withCString { pw in
            PEM_read_bio_PrivateKey(bio, nil, nil, password == nil ? nil : UnsafeMutableRawPointer(mutating: pw))
        }
    }

    private static func certificates(fromPEM text: String, what: String) throws(TLSError) -> [OpaquePointer] {
        let pem = normalizedPEM(text)
        let certs: [OpaquePointer] = withMemoryBIO(pem) { bio in
            var out: [OpaquePointer] = []
            while out.count < 64, let c = PEM_read_bio_X509(bio, nil, nil, nil) { out.append(c) }
            return out
        }
        ERR_clear_error()  // the read that ends the loop queues "no start line"
        if certs.isEmpty && pem.contains("-----BEGIN") { throw TLSError("cannot read the \(what)") }
        return certs
    }

    private static func withMemoryBIO<R>(_ text: String, _ body: (OpaquePointer) -> R) -> R {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return body(BIO_new(BIO_s_mem())) }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// PEM text whose line breaks were lost or changed (a properties value continued over lines, or
    /// joined with spaces) back into `-----BEGIN X-----`, base64 in 64-column lines, `-----END X-----`.
    static func normalizedPEM(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let begin = rest.firstRange(of: "-----BEGIN ") {
            guard let labelEnd = rest[begin.upperBound...].firstRange(of: "-----") else { break }
            let label = rest[begin.upperBound..<labelEnd.lowerBound]
            let endMarker = "-----END \(label)-----"
            guard let end = rest[labelEnd.upperBound...].firstRange(of: endMarker) else { break }
            let body = rest[labelEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace && $0 != "\\" }
            out += "-----BEGIN \(label)-----\n"
            var i = body.startIndex
            while i < body.endIndex {
                let j = body.index(i, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
                out += body[i..<j] + "\n"
                i = j
            }
            out += endMarker + "\n"
            rest = rest[end.upperBound...]
        }
        return out
    }
}
