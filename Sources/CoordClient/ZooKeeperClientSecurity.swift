import Sasl
import Transport

/// A bad or unsupported ZooKeeper client security setting (the caller exits with it).
public struct ZooKeeperClientConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// ZooKeeper's client keys for TLS to coordd's secureClientPort as Kafka names them: `zookeeper.ssl.client.enable`,
/// `zookeeper.clientCnxnSocket`, `zookeeper.ssl.keystore.*`, `zookeeper.ssl.truststore.*`, protocols,
/// cipher suites and endpoint identification. PEM stores only; whatever cannot be honoured is refused.
/// Shared by brokerd (server.properties) and the console (console.properties).
public enum ZooKeeperClientTLS {
    public static let netty = "org.apache.zookeeper.ClientCnxnSocketNetty"
    public static let known: Set<String> = [
        "zookeeper.ssl.client.enable", "zookeeper.clientCnxnSocket",
        "zookeeper.ssl.keystore.location", "zookeeper.ssl.keystore.password", "zookeeper.ssl.keystore.type",
        "zookeeper.ssl.truststore.location", "zookeeper.ssl.truststore.password", "zookeeper.ssl.truststore.type",
        "zookeeper.ssl.protocol", "zookeeper.ssl.enabled.protocols", "zookeeper.ssl.cipher.suites",
        "zookeeper.ssl.endpoint.identification.algorithm", "zookeeper.ssl.crl.enable", "zookeeper.ssl.ocsp.enable",
    ]

    public static func isKey(_ key: String) -> Bool { key.hasPrefix("zookeeper.ssl.") || key == "zookeeper.clientCnxnSocket" }

    /// nil: plaintext to coordd. `program` names the daemon in refusals.
    public static func config(_ values: [String: String], program: String) throws(ZooKeeperClientConfigError) -> TLSConfig? {
        typealias E = ZooKeeperClientConfigError
        for key in values.keys.sorted() where !known.contains(key) {
            throw E("\(key): \(program) does not support this ZooKeeper TLS setting; remove it")
        }
        let enabled: Bool
        switch values["zookeeper.ssl.client.enable"]?.lowercased() {
        case nil, "false": enabled = false
        case "true": enabled = true
        case let v?: throw E("zookeeper.ssl.client.enable=\(v) is not true/false")
        }
        if let socket = values["zookeeper.clientCnxnSocket"], socket != netty, socket != "org.apache.zookeeper.ClientCnxnSocketNIO" {
            throw E("zookeeper.clientCnxnSocket=\(socket): expected \(netty)")
        }
        guard enabled else {
            let set = values.keys.filter { $0.hasPrefix("zookeeper.ssl.") && $0 != "zookeeper.ssl.client.enable" }.sorted()
            if !set.isEmpty { throw E("\(set.joined(separator: ", ")) given but zookeeper.ssl.client.enable is not true: set it, or remove them") }
            return nil
        }
        if values["zookeeper.clientCnxnSocket"] != netty {
            throw E("zookeeper.ssl.client.enable=true needs zookeeper.clientCnxnSocket=\(netty), as Kafka does")
        }
        for flag in ["zookeeper.ssl.crl.enable", "zookeeper.ssl.ocsp.enable"] where (values[flag] ?? "false").lowercased() != "false" {
            throw E("\(flag)=\(values[flag] ?? ""): \(program) does not check revocation; remove it")
        }
        for store in ["zookeeper.ssl.keystore.type", "zookeeper.ssl.truststore.type"] {
            if let t = values[store], t.uppercased() != "PEM" { throw E("\(store)=\(t): \(program) reads PEM stores only; set \(store)=PEM") }
        }
        var c = TLSConfig()
        if let ks = values["zookeeper.ssl.keystore.location"], !ks.isEmpty {
            // A PEM key store holds the private key and the certificate chain in one file.
            c.certificateChainPath = ks
            c.privateKeyPath = ks
            if let pw = values["zookeeper.ssl.keystore.password"], !pw.isEmpty { c.privateKeyPassword = pw }
        }
        if let ts = values["zookeeper.ssl.truststore.location"], !ts.isEmpty { c.trustPath = ts }
        switch (values["zookeeper.ssl.endpoint.identification.algorithm"] ?? "HTTPS").uppercased() {
        case "HTTPS": break  // the server's certificate must name the host in zookeeper.connect
        case "": c.checkHostname = false
        case let v: throw E("zookeeper.ssl.endpoint.identification.algorithm=\(v): expected HTTPS or empty")
        }
        if let raw = values["zookeeper.ssl.enabled.protocols"] ?? values["zookeeper.ssl.protocol"] {
            do throws(TLSConfig.ProtocolListError) {
                c.protocols = try TLSConfig.protocols(javaList: raw)
            } catch .unsupported(let name) {
                throw E("TLS protocol \(name): \(program) supports TLSv1.2 and TLSv1.3 only")
            } catch {
                throw E("no TLS protocol enabled in '\(raw)'")
            }
        }
        if let suites = values["zookeeper.ssl.cipher.suites"] {
            c.cipherSuites = TLSConfig.cipherSuites(javaList: suites)
        }
        return c
    }
}

/// A SASL login to coordd, found as ZooKeeper's client finds it: the JAAS section `Client` (or the one
/// `zookeeper.sasl.clientconfig` names) of the file `java.security.auth.login.config` names;
/// `zookeeper.sasl.client=false` turns it off. The section must be a DigestLoginModule with
/// `username` and `password` (DIGEST-MD5). brokerd takes these as -D flags in KAFKA_OPTS, the
/// console as console.properties keys.
public struct ZooKeeperSasl: Sendable, Equatable {
    public var login: CoordSaslLogin
    public var section: String
    public var jaasFile: String

    public static let jaasProperty = "java.security.auth.login.config"
    public static let sectionProperty = "zookeeper.sasl.clientconfig"
    public static let enableProperty = "zookeeper.sasl.client"

    /// nil when no JAAS file is given, or it has no such section (a file for the Kafka listeners alone).
    /// `property` looks a setting up; `origin(name)` says where it was given (for messages).
    public static func resolve(property: (String) -> String?, origin: (String) -> String, program: String,
                               read: (String) throws -> [UInt8]) throws(ZooKeeperClientConfigError) -> ZooKeeperSasl? {
        typealias E = ZooKeeperClientConfigError
        if let on = property(enableProperty) {
            switch on.lowercased() {
            case "false": return nil
            case "true": break
            default: throw E("\(origin(enableProperty))=\(on) is not true/false")
            }
        }
        guard let path = property(jaasProperty), !path.isEmpty else { return nil }
        let named = property(sectionProperty)
        let section = named ?? "Client"
        let file: JaasFile
        do {
            file = try JaasFile.parse(String(decoding: try read(path), as: UTF8.self))
        } catch let e as JaasError {
            throw E("\(path) (\(origin(jaasProperty))): \(e.description)")
        } catch {
            throw E("cannot read the JAAS file \(path) (\(origin(jaasProperty))): \(error)")
        }
        guard let modules = file[section] else {
            // Kafka fails only when the section was named explicitly.
            if named != nil { throw E("JAAS file \(path) has no section \(section) (\(sectionProperty))") }
            return nil
        }
        guard modules.count == 1, let m = modules.first else { throw E("JAAS section \(section) of \(path): one login module expected") }
        if JaasFile.kerberosLoginModules.contains(m.className) {
            throw E("JAAS section \(section) of \(path): \(m.className) is Kerberos (GSSAPI); \(program) logs in to coordd with \(JaasFile.zooKeeperDigestLoginModule) only")
        }
        guard m.className == JaasFile.zooKeeperDigestLoginModule else {
            throw E("JAAS section \(section) of \(path): login module \(m.className) is not supported; use \(JaasFile.zooKeeperDigestLoginModule)")
        }
        guard let user = m["username"], !user.isEmpty, let password = m["password"] else {
            throw E("JAAS section \(section) of \(path): username and password are required")
        }
        return ZooKeeperSasl(login: CoordSaslLogin(user: user, password: password), section: section, jaasFile: path)
    }
}
