/// A counting semaphore that lives in a ``Manager``'s server: Python's `Manager().Semaphore(n)`.
/// Permits held by a process whose connection closes (it ended or was killed) go back.
public struct ManagedSemaphore: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Takes a permit, waiting up to `timeout` (`nil`: as long as it takes).
    ///
    /// - Returns: Whether a permit was taken.
    @discardableResult
    public func acquire(timeout: Duration? = nil) throws -> Bool {
        try reference.granted(.acquire(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
    }

    /// Takes a permit, suspending (without holding a thread) up to `timeout`.
    ///
    /// - Returns: Whether a permit was taken.
    @discardableResult
    public func acquire(timeout: Duration? = nil) async throws -> Bool {
        try await reference.granted(.acquire(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
    }

    /// Gives a permit back (to the first waiter, if any).
    public func release() throws {
        _ = try reference.call(.release)
    }
}
