import Testing
import Transport

@Suite struct TLSJavaListTests {
    @Test func protocolListsTakeJavasNamesAndRefuseOthers() throws {
        #expect(try TLSConfig.protocols(javaList: " TLSv1.3 ,\tTLSv1.2") == [.tls12, .tls13])
        #expect(try TLSConfig.protocols(javaList: "TLS") == [.tls12, .tls13])
        #expect(try TLSConfig.protocols(javaList: "TLSv1.3") == [.tls13])
        #expect(throws: TLSConfig.ProtocolListError.unsupported("TLSv1")) { try TLSConfig.protocols(javaList: "TLSv1.2,TLSv1") }
        #expect(throws: TLSConfig.ProtocolListError.empty) { try TLSConfig.protocols(javaList: " , ") }
        #expect(TLSConfig.cipherSuites(javaList: "A, B ,,\tC") == ["A", "B", "C"])
    }
}
