/// The lifecycle of a child process as one value: `created → running (report pending, then in) →
/// finished`. ``ChildProcess`` changes it under one lock; each transition says what the caller must
/// do next (release the child's descriptors, throw), and the caller does it outside the lock. Being
/// generic over the child handle, it is unit-tested without processes (as `NIOThreadPool`'s state).
struct ChildLifecycle<Child, Output> {
    enum State {
        case created
        case running(Child, outcome: Result<Output, any Error>?, isReportPending: Bool)
        case finished(pid: Int32, status: ExitStatus, outcome: Result<Output, any Error>?)
    }

    /// What a waiter should do now.
    enum WaitTarget {
        case notStarted
        /// Watch the child's pidfd, and its control socket while the report is pending.
        case running(Child, isReportPending: Bool)
        case finished(ExitStatus)
    }

    private(set) var state = State.created

    /// `created → running`. A second start is a programmer's error reported as `.alreadyStarted`.
    mutating func start(_ launch: () throws -> Child) throws {
        guard case .created = state else { throw ProcessError(.alreadyStarted, "the process was already started") }
        state = .running(try launch(), outcome: nil, isReportPending: true)
    }

    var waitTarget: WaitTarget {
        switch state {
        case .created: .notStarted
        case .running(let child, _, let isReportPending): .running(child, isReportPending: isReportPending)
        case .finished(_, let status, _): .finished(status)
        }
    }

    /// The report came in (`nil`: the child closed its end without one). Later reports are ignored.
    mutating func reportArrived(_ outcome: Result<Output, any Error>?) {
        guard case .running(let child, nil, true) = state else { return }
        state = .running(child, outcome: outcome, isReportPending: false)
    }

    /// `running → finished`. Returns the child whose descriptors the caller must now release, or
    /// `nil` when another waiter already did.
    mutating func exited(pid: Int32, status: ExitStatus) -> Child? {
        guard case .running(let child, let outcome, _) = state else { return nil }
        state = .finished(pid: pid, status: status, outcome: outcome)
        return child
    }

    /// The task's result once finished: its report, or `.exitedWithoutResult` when none came.
    func result(name: String) -> Result<Output, any Error>? {
        guard case .finished(let pid, let status, let outcome) = state else { return nil }
        return outcome
            ?? .failure(
                ProcessError(
                    .exitedWithoutResult,
                    "\(name) ended without delivering a result",
                    pid: pid,
                    exitStatus: status
                )
            )
    }

    /// The running child, if any (for signals, the sentinel, deinit).
    var runningChild: Child? {
        if case .running(let child, _, _) = state { return child }
        return nil
    }
}
