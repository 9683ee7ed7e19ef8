import Dispatch
import Foundation
import Protocol
import Synchronization

extension ZKRequest {
    /// The path a watch set by this request is registered on.
    var watchPath: String {
        switch self {
        case .exists(let p, _), .getData(let p, _), .getChildren(let p, _), .getChildren2(let p, _): return p
        default: return ""
        }
    }
}

/// Where a blocking call waits for its reply; a class so the reply can outlive a timed-out wait.
final class ResultSlot: Sendable {
    private let value = Mutex<Result<ZKResponse, CoordError>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func fill(_ r: Result<ZKResponse, CoordError>) {
        value.withLock { $0 = r }
        ready.signal()
    }

    func wait(timeoutMs: Int) -> Result<ZKResponse, CoordError>? {
        guard ready.wait(timeout: .now() + .milliseconds(timeoutMs)) == .success else { return nil }
        return value.withLock { $0 }
    }
}

let debugCoord = ProcessInfo.processInfo.environment["COORD_CLIENT_DEBUG"] != nil
