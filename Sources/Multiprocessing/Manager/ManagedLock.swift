/// A lock that lives in a ``Manager``'s server: Python's `Manager().Lock()`, reachable from any
/// process that holds the proxy, here or over the network. Waiters are served in arrival order.
///
/// Unlike Python's, a holder that dies does not leave it taken: when the connection that took it
/// closes (the process ended or was killed), the server gives it to the next waiter. Any process
/// may unlock it, as with Python's `Lock` (this is not a recursive lock).
public struct ManagedLock: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Takes the lock, waiting up to `timeout` (`nil`: as long as it takes): Python's `acquire`.
    ///
    /// - Returns: Whether it was taken (false when `timeout` passed first).
    @discardableResult
    public func lock(timeout: Duration? = nil) throws -> Bool {
        try reference.granted(.acquire(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
    }

    /// Takes the lock, suspending (without holding a thread) up to `timeout`.
    ///
    /// - Returns: Whether it was taken (false when `timeout` passed first).
    @discardableResult
    public func lock(timeout: Duration? = nil) async throws -> Bool {
        try await reference.granted(.acquire(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
    }

    /// Takes the lock only if it is free now.
    public func tryLock() throws -> Bool {
        try reference.granted(.acquire(timeoutNanoseconds: 0))
    }

    /// Releases the lock: Python's `release`.
    ///
    /// - Throws: ``ManagerError`` `.remoteFailure` when nobody holds it.
    public func unlock() throws {
        _ = try reference.call(.release)
    }

    /// Runs `body` holding the lock: Python's `with lock:`.
    public func withLock<Result>(_ body: () throws -> Result) throws -> Result {
        try lock()
        defer { try? unlock() }
        return try body()
    }
}
