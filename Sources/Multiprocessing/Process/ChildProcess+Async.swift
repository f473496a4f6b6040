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
            let interests = waitInterests()
            if interests.isEmpty { continue }
            do {
                _ = try await EventLoop.shared.wait(for: interests)
            } catch let error as SystemCallError {
                throw ProcessError(error, pid: pid)
            }
        }
    }

    /// Suspends until the child ends and returns what its work returned. See `value()`.
    public func value() async throws -> Output {
        try await join()
        return try finishedValue()
    }
}
