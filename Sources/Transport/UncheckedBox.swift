/// Carries a loop-confined value through a `@Sendable` closure that runs back on that loop (or
/// hands it to the one thread that owns it from then on). The only unchecked box in the project.
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ v: T) { value = v }
}
