/// Async variants: waiting suspends the task instead of blocking a cooperative thread.
extension ChildProcess {
    /// Suspends until the child ends. See ``join(timeout:)``.
    @discardableResult
    public func join() async throws -> ExitStatus {
        try await BlockingCall.run { try self.join(timeout: nil)! }
    }

    /// Suspends until the child ends and returns what its work returned. See ``value()``.
    public func value() async throws -> Output {
        try await BlockingCall.run { try self.value() }
    }
}
