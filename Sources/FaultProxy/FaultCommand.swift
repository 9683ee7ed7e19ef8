/// What a fault proxy does to the bytes of one direction of every connection it carries.
public enum FaultMode: Sendable, Equatable, CustomStringConvertible {
    /// Forward as fast as the peers take them.
    case pass
    /// Read and discard silently (the sender sees its writes succeed).
    case drop
    /// Stop reading and forwarding; sockets stay open, kernel buffers fill, nothing is lost until
    /// the mode changes (a partition that heals, as TCP retransmission would).
    case blackhole
    /// Forward each chunk `ms` milliseconds after it was read.
    case delay(ms: Int)
    /// Forward at most this many bytes per second.
    case throttle(bytesPerSecond: Int)

    public var description: String {
        switch self {
        case .pass: "pass"
        case .drop: "drop"
        case .blackhole: "blackhole"
        case .delay(let ms): "delay \(ms)"
        case .throttle(let bps): "throttle \(bps)"
        }
    }
}

/// `upstream` is client → target, `downstream` is target → client.
public enum FaultDirection: Int, Sendable, CaseIterable, CustomStringConvertible {
    case upstream = 0
    case downstream = 1

    public var description: String { self == .upstream ? "up" : "down" }
}

/// One line of the control protocol, parsed. Grammar (words separated by spaces):
///
///     [up|down|both] pass | drop | blackhole | delay MS | throttle BYTES_PER_SEC
///     reset        RST every carried connection (SO_LINGER 0)
///     close        close every carried connection (FIN)
///     status       modes and counters
///     help
public enum FaultCommand: Sendable, Equatable {
    case set(FaultMode, [FaultDirection])
    case reset
    case close
    case status
    case help

    /// Longest accepted control line; longer ones are refused (the control port is input too).
    public static let maxLineLength = 256
    static let maxDelayMs = 600_000

    public static let usage = """
        commands: [up|down|both] pass|drop|blackhole|delay MS|throttle BYTES_PER_SEC; reset; close; status; help
        """

    public static func parse(_ line: String) -> Result<FaultCommand, FaultCommandError> {
        guard line.utf8.count <= maxLineLength else { return .failure(FaultCommandError("line longer than \(maxLineLength) bytes")) }
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map { $0.lowercased() }
        guard !words.isEmpty else { return .failure(FaultCommandError("empty command")) }
        var dirs = FaultDirection.allCases
        switch words[0] {
        case "up", "upstream": dirs = [.upstream]; words.removeFirst()
        case "down", "downstream": dirs = [.downstream]; words.removeFirst()
        case "both": words.removeFirst()
        default: break
        }
        guard let verb = words.first else { return .failure(FaultCommandError("direction without a mode")) }
        let args = words.dropFirst()
        func number(_ what: String, max: Int) -> Result<Int, FaultCommandError> {
            guard args.count == 1, let s = args.first, let v = Int(s), v >= 0, v <= max else {
                return .failure(FaultCommandError("\(verb) takes one \(what) between 0 and \(max)"))
            }
            return .success(v)
        }
        func noArgs(_ c: FaultCommand) -> Result<FaultCommand, FaultCommandError> {
            args.isEmpty ? .success(c) : .failure(FaultCommandError("\(verb) takes no arguments"))
        }
        let directional = dirs.count == 1
        switch verb {
        case "pass": return noArgs(.set(.pass, dirs))
        case "drop": return noArgs(.set(.drop, dirs))
        case "blackhole": return noArgs(.set(.blackhole, dirs))
        case "delay": return number("delay in ms", max: maxDelayMs).map { .set(.delay(ms: $0), dirs) }
        case "throttle":
            return number("rate in bytes per second", max: 1 << 40).flatMap {
                $0 > 0 ? .success(.set(.throttle(bytesPerSecond: $0), dirs)) : .failure(FaultCommandError("throttle rate must be positive (use blackhole)"))
            }
        case "reset", "close", "status", "help":
            if directional || words.count != 1 { return .failure(FaultCommandError("\(verb) takes no direction or arguments")) }
            return .success(verb == "reset" ? .reset : verb == "close" ? .close : verb == "status" ? .status : .help)
        default:
            return .failure(FaultCommandError("unknown command '\(verb)'"))
        }
    }
}

public struct FaultCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    init(_ m: String) { message = m }
    public var description: String { message }
}

/// Counters of one proxy, for the `status` command and for tests.
public struct FaultProxyStats: Sendable, Equatable {
    public var modes: [FaultMode] = [.pass, .pass]
    public var accepted = 0
    public var active = 0
    public var refused = 0
    public var resets = 0
    /// Bytes written towards the other side, per direction.
    public var forwarded = [0, 0]
    /// Bytes discarded in `drop` mode, per direction.
    public var dropped = [0, 0]

    public var line: String {
        "up=\(modes[0]) down=\(modes[1]) connections=\(active) accepted=\(accepted) refused=\(refused) resets=\(resets) "
            + "forwarded_up=\(forwarded[0]) forwarded_down=\(forwarded[1]) dropped_up=\(dropped[0]) dropped_down=\(dropped[1])"
    }
}
