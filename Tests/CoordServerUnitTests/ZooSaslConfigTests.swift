import Testing
@testable import CoordServer

/// zoo.cfg and JVM-flag SASL settings: what coordd honours, and what makes it refuse to start.
@Suite struct ZooSaslConfigTests {
    static let base = "dataDir=/tmp/x\nclientPort=2181\n"
    static let provider = "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
    static let jaas = """
        Server {
            org.apache.zookeeper.server.auth.DigestLoginModule required
            user_bob="secret";
        };
        """

    func refusal(_ cfg: String, env: [String: String] = [:], jaas: String? = jaas) -> String? {
        do {
            var c = try ZooConfig.parse(Self.base + cfg, environment: env)
            try c.sasl.resolve(environment: env) { path in
                guard let jaas else { throw ZooConfigError("no such file \(path)") }
                return Array(jaas.utf8)
            }
            return nil
        } catch {
            return error.description
        }
    }

    @Test func providerSuperUserAndJaasFromTheEnvironment() throws {
        let env = ["SERVER_JVMFLAGS": "-Xmx1g -Djava.security.auth.login.config=/etc/zk/jaas.conf -Dzookeeper.superUser=admin"]
        var c = try ZooConfig.parse(Self.base + Self.provider + "zookeeper.sessionRequireClientSASLAuth=true\n", environment: env)
        try c.sasl.resolve(environment: env) { path in
            #expect(path == "/etc/zk/jaas.conf")
            return Array(Self.jaas.utf8)
        }
        #expect(c.auth.saslEnabled)
        #expect(c.auth.saslSuperUsers == ["admin"])
        #expect(c.auth.enforcedSchemes == ["sasl"])
        #expect(c.sasl.users == ["bob": "secret"])
        // The zoo.cfg key (coordd's own way: there is no JVM) works alike; authProvider.sasl too.
        var d = try ZooConfig.parse(Self.base + "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\njava.security.auth.login.config=/a.conf\n")
        try d.sasl.resolve(environment: [:]) { _ in Array(Self.jaas.utf8) }
        #expect(d.auth.saslEnabled && d.sasl.users?["bob"] == "secret")
        // Without any SASL key nothing changes.
        let plain = try ZooConfig.parse(Self.base)
        #expect(!plain.auth.saslEnabled && plain.auth.enforcedSchemes.isEmpty && plain.sasl.users == nil)
    }

    @Test func authenticationFlagsInJvmFlagsCountAndZooCfgWins() throws {
        // kazoo's harness gives the super digest this way.
        let env = ["SERVER_JVMFLAGS": "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU= -Dzookeeper.skipACL=no",
                   "JVMFLAGS": "-Dzookeeper.ssl.keyStore.location=/client/only.pem -Dzookeeper.authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"]
        let c = try ZooConfig.parse(Self.base, environment: env)
        #expect(c.auth.superDigest == "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
        #expect(c.auth.saslEnabled)
        #expect(c.secureClientTLS == nil, "client TLS flags in JVMFLAGS (shared with zkCli.sh) are not the server's")
        let overridden = try ZooConfig.parse(Self.base + "skipACL=yes\n", environment: env)
        #expect(overridden.auth.skipACL)
        #expect(refusal("", env: ["SERVER_JVMFLAGS": "-Dzookeeper.DigestAuthenticationProvider.digestAlg=SHA-256"]) != nil)
    }

    @Test func enforcedSchemesNeedTheirProviders() {
        #expect(refusal("sessionRequireClientSASLAuth=true\n")?.contains("authProvider") == true)
        #expect(refusal("enforce.auth.enabled=true\n")?.contains("enforce.auth.schemes") == true)
        #expect(refusal("enforce.auth.enabled=true\nenforce.auth.schemes=x509\n")?.contains("x509") == true)
        #expect(refusal("enforce.auth.enabled=true\nenforce.auth.schemes=digest,ip\n") == nil)
        #expect(refusal(Self.provider + "sessionRequireClientSASLAuth=true\n", jaas: nil)?.contains("no JAAS file") == true)
        #expect(refusal(Self.provider + "java.security.auth.login.config=/j\n", jaas: nil)?.contains("cannot read") == true)
    }

    @Test func kerberosAndUnknownSettingsAreRefused() {
        let krb = """
            Server {
                com.sun.security.auth.module.Krb5LoginModule required
                useKeyTab=true keyTab="/etc/zk.keytab" principal="zookeeper/host@EXAMPLE.COM";
            };
            """
        #expect(refusal(Self.provider + "java.security.auth.login.config=/j\n", jaas: krb)?.contains("Kerberos") == true)
        #expect(refusal(Self.provider + "java.security.auth.login.config=/j\n", jaas: "Other { a.B required; };")?.contains("No JAAS configuration section named 'Server'") == true)
        #expect(refusal(Self.provider + "java.security.auth.login.config=/j\n", jaas: "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b\" storeKey=true; };")?.contains("storeKey") == true)
        #expect(refusal("kerberos.removeHostFromPrincipal=true\n")?.contains("Kerberos") == true)
        #expect(refusal("", env: ["JVMFLAGS": "-Dzookeeper.kerberos.removeRealmFromPrincipal=true"])?.contains("Kerberos") == true)
        #expect(refusal("authProvider.1=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n")?.contains("providers only") == true)
        #expect(refusal("zookeeper.allowSaslFailedClients=true\n") != nil)
        #expect(refusal(Self.provider + "java.security.auth.login.config=/a\n", env: ["SERVER_JVMFLAGS": "-Djava.security.auth.login.config=/b"])?.contains("give one") == true)
    }
}
