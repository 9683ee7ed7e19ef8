@testable import KafkaClient
import Testing

@Suite struct AclsCLITests {
    func parse(_ s: String) throws -> AclsCommand {
        guard case .acls(let c) = try KafkaCtlCommand.parse(["acls"] + s.split(separator: " ").map(String.init)) else {
            throw CLIError("not acls")
        }
        return c
    }

    @Test func addExpandsPrincipalsHostsOperationsAndResources() throws {
        let c = try parse("--add --allow-principal User:a --allow-principal User:b --operation Read --operation describe --topic t --group g --resource-pattern-type prefixed")
        guard case .add(let b) = c.action else { Issue.record("\(c)"); return }
        #expect(b.count == 8)
        #expect(b.allSatisfy { $0.patternType == 4 && $0.permission == 3 && $0.host == "*" })
        #expect(Set(b.map(\.operation)) == [3, 8])
        #expect(Set(b.map(\.resourceType)) == [2, 3])
        let d = try parse("--add --deny-principal User:x --deny-host 10.0.0.1 --cluster")
        guard case .add(let db) = d.action else { Issue.record("\(d)"); return }
        #expect(db == [AclSpec(resourceType: 4, resourceName: "kafka-cluster", patternType: 3, principal: "User:x", host: "10.0.0.1", operation: 2, permission: 2)])
    }

    @Test func removeWithoutPrincipalMatchesEveryAclOfTheResource() throws {
        let c = try parse("--remove --topic t")
        #expect(c.action == .remove([AclSpec(resourceType: 2, resourceName: "t", patternType: 3, principal: nil, host: nil, operation: 1, permission: 1)]))
    }

    @Test func listDefaultsToEverything() throws {
        let c = try parse("--list --principal User:a")
        #expect(c.action == .list([AclSpec(resourceType: 1, resourceName: nil, patternType: 1, principal: "User:a", host: nil, operation: 1, permission: 1)]))
        let m = try parse("--list --topic t --resource-pattern-type match")
        #expect(m.action == .list([AclSpec(resourceType: 2, resourceName: "t", patternType: 2, principal: nil, host: nil, operation: 1, permission: 1)]))
    }

    @Test func refusesIncompleteOrContradictoryCommands() {
        for bad in ["--add --topic t", "--add --allow-principal User:a", "--add --list --topic t", "", "--add --allow-principal alice --topic t",
                    "--add --allow-principal User:a --topic t --operation Fly", "--add --allow-principal User:a --topic t --resource-pattern-type match",
                    "--remove"] {
            #expect(throws: CLIError.self, "\(bad)") { _ = try parse(bad) }
        }
    }
}
