import Crypto
import Protocol
import Sasl

extension Admin {
    /// Creates or replaces a user's SCRAM credential (AlterUserScramCredentials): the password is salted
    /// and hashed here, only SaltedPassword travels, and the broker stores StoredKey/ServerKey.
    public func upsertScramUser(_ user: String, password: String, mechanism: SaslMechanism = .scramSha256, iterations: Int = 4096) throws {
        guard let id = mechanism.scramTypeId, let digest = mechanism.scramDigest else {
            throw KafkaError.invalidArgument("\(mechanism.rawValue) is not a SCRAM mechanism")
        }
        let salt = Digests.randomBytes(32)
        let salted = Scram.saltedPassword(digest, password: password, salt: salt, iterations: iterations)
        let req = AlterUserScramCredentialsRequest(upsertions: [.init(name: user, mechanism: id, iterations: Int32(iterations), salt: salt, saltedPassword: salted)])
        let r = try cluster.call(req, to: .any)
        if let e = r.results.first(where: { $0.errorCode != .none }) {
            throw KafkaError.broker(e.errorCode, e.errorMessage ?? "AlterUserScramCredentials for \(e.user)")
        }
    }
}
