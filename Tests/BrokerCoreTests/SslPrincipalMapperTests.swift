import BrokerCore
import Testing

@Suite struct SslPrincipalMapperTests {
    @Test func defaultIsTheDistinguishedName() throws {
        #expect(SslPrincipalMapper.default.name(forDN: "CN=alice,OU=eng,O=org") == "CN=alice,OU=eng,O=org")
        #expect(try SslPrincipalMapper(rules: "DEFAULT").name(forDN: "CN=a") == "CN=a")
    }

    @Test func firstMatchingRuleWinsWithGroupsAndCase() throws {
        let m = try SslPrincipalMapper(rules: "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?)$/$1@$2/U,\n DEFAULT")
        #expect(m.name(forDN: "CN=kafka-broker,OU=ServiceUsers,O=org") == "kafka-broker")
        #expect(m.name(forDN: "CN=alice,OU=eng,O=org") == "ALICE@ENG")
        #expect(m.name(forDN: "CN=bob") == "CN=bob")
        // A pattern must match the whole DN, not a part of it.
        let strict = try SslPrincipalMapper(rules: "RULE:CN=([a-z]+)/$1/L")
        #expect(strict.name(forDN: "CN=bob,O=org") == nil)
        #expect(strict.name(forDN: "CN=bob") == "bob")
    }

    @Test func escapedSlashesAndLiteralDollars() throws {
        let m = try SslPrincipalMapper(rules: #"RULE:^CN=(.*)\/x$/u\$$1/"#)
        #expect(m.name(forDN: "CN=a/x") == "u$a")
    }

    @Test func malformedRulesAreRefused() {
        for bad in ["", "RULE:^CN=(.*)$/$1", "RULE:(/x/", "SOMETHING", "DEFAULT junk"] {
            #expect(throws: SslPrincipalMapper.RuleError.self, "\(bad)") { try SslPrincipalMapper(rules: bad) }
        }
    }
}
