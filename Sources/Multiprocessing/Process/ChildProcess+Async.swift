import SystemPackage

/// Async variants: waiting suspends the task on the library's event loop, which watches the
/// child's pidfd and control socket; no thread is held while the child runs.
extension ChildProcess {
    /// Suspends until the child ends. See ``join(timeout:)``.
    ///
    /// - Throws: As ``join(timeout:)``, and `CancellationError` if the task is cancelled while
    ///   waiting (the child goes on running).
    @discardableResult
    public func join() async throws -> ExitStatus {
        while true {
            if let status = try joinWithoutWaiting() { return status }
            guard let (child, interests) = waitInterests() else { continue }
            do {
                // A closed control socket means another joiner finished the child: look again.
                _ = try await EventLoop.shared.wait(for: interests, isStillValid: { !child.control.isClosed })
            } catch let error as SystemCallError where error.errno == .badFileDescriptor {
                // Closed by another joiner between reading the interests and arming them.
            } catch let error as SystemCallError {
                throw ProcessError(error, pid: child.pid)
            }
            withExtendedLifetime(child) {}
        }
    }

    /// Suspends until the child ends and returns what its work returned. See `value()`.
    public func value() async throws -> Output {
        try await join()
        return try finishedValue()
    }
}
