import Testing
@testable import Crypto

@Suite struct DigestsTests {
    let abc = Array("abc".utf8)

    @Test func hashesMatchFIPS180Vectors() {
        #expect(Digests.hash(.sha1, abc).hexString == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Digests.hash(.sha256, abc).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digests.hash(.sha512, abc).hexString.hasPrefix("ddaf35a193617abacc417349ae204131"))
    }

    @Test func hmacMatchesRFC4231Case2() {
        let mac = Digests.hmac(.sha256, key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(mac.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func pbkdf2MatchesRFC7914Vector() {
        let dk = Digests.pbkdf2(.sha256, password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(dk.hexString.hasPrefix("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"))
    }

    @Test func randomBytesDifferAndConstantTimeEqualCompares() {
        let a = Digests.randomBytes(32), b = Digests.randomBytes(32)
        #expect(a.count == 32 && a != b)
        #expect(Digests.constantTimeEqual(a, a))
        #expect(!Digests.constantTimeEqual(a, b))
        #expect(!Digests.constantTimeEqual(a, Array(a.prefix(31))))
    }
}
