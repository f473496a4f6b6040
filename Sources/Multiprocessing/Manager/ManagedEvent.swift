/// An event that lives in a ``Manager``'s server: Python's `Manager().Event()`.
public struct ManagedEvent: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Sets the flag and wakes every waiter.
    public func set() throws {
        _ = try reference.call(.setEvent)
    }

    /// Clears the flag.
    public func clear() throws {
        _ = try reference.call(.clearEvent)
    }

    /// Whether the flag is set (Python's `is_set()`).
    public func isSet() throws -> Bool {
        try reference.count(.isEventSet) != 0
    }

    /// Waits until the flag is set, up to `timeout` (`nil`: as long as it takes).
    ///
    /// - Returns: Whether the flag was set (false when `timeout` passed first).
    @discardableResult
    public func wait(timeout: Duration? = nil) throws -> Bool {
        try reference.granted(.waitEvent(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
    }

    /// Waits until the flag is set, suspending (without holding a thread) up to `timeout`.
    ///
    /// - Returns: Whether the flag was set.
    @discardableResult
    public func wait(timeout: Duration? = nil) async throws -> Bool {
        try await reference.granted(.waitEvent(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
    }
}
