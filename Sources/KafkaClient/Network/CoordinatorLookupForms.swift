import Protocol

/// FindCoordinator names one key up to v3 and a batch from v4: the client fills both and reads
/// back the v0–3 shape, whichever version was negotiated.
extension FindCoordinatorRequest {
    static func one(_ key: String, keyType: Int8) -> FindCoordinatorRequest {
        FindCoordinatorRequest(key: key, keyType: keyType, coordinatorKeys: [key])
    }
}

extension FindCoordinatorResponse {
    func one(_ key: String) -> FindCoordinatorResponse {
        guard !coordinators.isEmpty else { return self }
        guard let c = coordinators.first(where: { $0.key == key }) else {
            return FindCoordinatorResponse(throttleTimeMs: throttleTimeMs, errorCode: .coordinatorNotAvailable,
                                           errorMessage: "no answer for \(key)", nodeId: -1, host: "", port: -1)
        }
        return FindCoordinatorResponse(throttleTimeMs: throttleTimeMs, errorCode: c.errorCode, errorMessage: c.errorMessage,
                                       nodeId: c.nodeId, host: c.host, port: c.port)
    }
}
