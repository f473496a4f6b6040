public import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// A child process that runs Swift work and returns its result: Python's `multiprocessing.Process`.
///
/// ```swift
/// let child = ChildProcess(running: Fibonacci(n: 30))   // spawn: a ParallelTask
/// try child.start()
/// let value = try child.value()                        // waits, then returns or rethrows
///
/// let forked = ChildProcess(forking: { 6 * 7 })        // fork: a closure
/// ```
///
/// No `if __name__ == "__main__"` guard is needed: a spawned child enters worker mode before the
/// program's `main` runs. Every child dies with its parent (a parent-death signal plus a lifeline
/// pipe), and is reaped by whoever waits for it, or by the library if nobody does.
///
/// All members may be called from any thread. ``join(timeout:)`` and `value()` block; their
/// `async` overloads suspend instead.
public final class ChildProcess<Output: Sendable>: Sendable {
    /// The process name, for messages and diagnostics (Python's `Process.name`).
    public let name: String
    /// Whether the child is terminated when the parent exits normally, instead of being waited for.
    ///
    /// Defaults to the daemon flag of the process that creates the child, as in Python.
    public let isDaemon: Bool
    /// How the child is started.
    public let startMethod: StartMethod
    /// Whether an error thrown by the task is printed, on one line, to the child's standard error
    /// (Python prints the traceback). The parent receives the error from `value()` either way.
    public let printsErrors: Bool

    let work: Work
    private let state = ProtectedState(ChildLifecycle<LaunchedChild, Output>())
    /// Serializes waiters: one thread at a time reads the report and reaps the child.
    private let joinLock = ProtectedState(())

    enum Work: @unchecked Sendable {
        case task(typeName: String, checkedLocally: Bool, send: (Connection) throws -> Void)
        case closure(() throws -> Output, encode: (Output, Connection) -> Int32)
    }

    private let readReport: @Sendable (Connection, pid_t) throws -> Result<Output, any Error>

    // MARK: - Creating

    /// A child that will run `task` in a re-executed copy of this program (``StartMethod/spawn``),
    /// or in a copy forked by the fork server (``StartMethod/forkServer``).
    ///
    /// - Parameters:
    ///   - task: The work; its type must be visible by name (see ``ParallelTask``).
    ///   - name: Defaults to `ChildProcess-<n>`, as Python's `Process-<n>`.
    ///   - isDaemon: Python's `daemon`; `nil` takes the creating process's flag, as Python does.
    ///   - printsErrors: Whether the child prints an error its task throws to its standard error.
    ///   - startMethod: `.spawn` (the default) or `.forkServer`. A task is not a closure, so it is
    ///     not run with `.fork`: use `init(forking:)` for that (this initializer traps on `.fork`).
    public init<Task: ParallelTask>(
        running task: Task,
        name: String? = nil,
        isDaemon: Bool? = nil,
        printsErrors: Bool = true,
        startMethod: StartMethod = .spawn
    ) where Task.Output == Output {
        precondition(startMethod != .fork, "a ParallelTask runs with .spawn or .forkServer; fork a closure instead")
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon ?? WorkerContext.currentProcess.isDaemon
        self.printsErrors = printsErrors
        self.startMethod = startMethod
        let typeName = _mangledTypeName(Task.self) ?? ""
        work = .task(typeName: typeName, checkedLocally: true, send: { try $0.send(task) })
        readReport = { control, pid in
            try control.receiveValue(TaskReport<Task.Output>.self, wait: false).result(pid: pid)
        }
    }

    /// A child that runs `body` in a forked copy of this process (``StartMethod/fork``).
    ///
    /// - Important: Read the hazards of ``StartMethod/fork``: `body` must be synchronous and must not
    ///   wait on other threads, Dispatch or Swift concurrency.
    public init(
        name: String? = nil,
        isDaemon: Bool? = nil,
        printsErrors: Bool = true,
        forking body: @escaping @Sendable () throws -> Output
    ) where Output: Codable {
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon ?? WorkerContext.currentProcess.isDaemon
        self.printsErrors = printsErrors
        startMethod = .fork
        work = .closure(body, encode: { sendReport(.success($0), over: $1) })
        readReport = { control, pid in try control.receiveValue(TaskReport<Output>.self, wait: false).result(pid: pid) }
    }

    /// A child that runs `body`, which returns nothing, in a forked copy of this process.
    public init(
        name: String? = nil,
        isDaemon: Bool? = nil,
        printsErrors: Bool = true,
        forking body: @escaping @Sendable () throws -> Void
    ) where Output == Void {
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon ?? WorkerContext.currentProcess.isDaemon
        self.printsErrors = printsErrors
        startMethod = .fork
        work = .closure(body, encode: { _, control in sendReport(.success(NoOutput()), over: control) })
        readReport = { control, pid in
            try control.receiveValue(TaskReport<NoOutput>.self, wait: false).result(pid: pid).map { _ in () }
        }
    }

    /// A spawned child told to run the type named `typeName` with `payload` as its encoding, without
    /// checking the name here: for tests of the child's own checks.
    init<Payload: Encodable & Sendable>(uncheckedTypeName typeName: String, payload: Payload) where Output: Codable {
        name = ChildProcessNames.next()
        isDaemon = false
        printsErrors = true
        startMethod = .spawn
        work = .task(typeName: typeName, checkedLocally: false, send: { try $0.send(payload) })
        readReport = { control, pid in try control.receiveValue(TaskReport<Output>.self, wait: false).result(pid: pid) }
    }

    deinit {
        if let child = state.withLock({ $0.runningChild }) {
            if isDaemon { try? system_pidfd_send_signal(child.pidfd, SIGTERM) }
            child.control.close()
            ProcessLauncher.shared.abandon(child)
        }
    }

    // MARK: - Lifecycle

    /// Starts the child: Python's `Process.start()`.
    ///
    /// Returns once the child exists; it does not wait for the task to begin.
    /// - Throws: ``ProcessError`` `.alreadyStarted`, `.unsupportedTaskType` (a private or local task
    ///   type, found before anything starts), `.startFailed` or `.systemCallFailed` (`EAGAIN`, `EMFILE`);
    ///   the encoder's error when the task cannot be encoded (the child is then ended and reaped).
    public func start() throws {
        if case .task(let typeName, true, _) = work {
            guard !typeName.isEmpty, _typeByName(typeName) != nil else {
                throw ProcessError(
                    .unsupportedTaskType,
                    "the task type of \(name) cannot be found by name; declare it at file scope, not private or local"
                )
            }
        }
        do {
            try state.withLock { try $0.start(launch) }
        } catch let error as ProcessError where error.code == .alreadyStarted {
            throw ProcessError(.alreadyStarted, "\(name) was already started")
        }
    }

    /// Waits for the child to end: Python's `Process.join(timeout)`.
    ///
    /// While waiting it also reads the child's result, so a child sending a large result never
    /// blocks on a parent that is only waiting for it to exit.
    /// - Parameter timeout: `nil` waits as long as it takes.
    /// - Returns: How the child ended, or `nil` if it is still running when `timeout` passes.
    /// - Throws: ``ProcessError/Code-swift.struct/notStarted``; `.systemCallFailed`.
    @discardableResult
    public func join(timeout: Duration? = nil) throws -> ExitStatus? {
        try joinLock.withLock { _ in try waitStep(until: Deadline(timeout: timeout)) }
    }

    /// Waits for the child and returns what its work returned.
    ///
    /// - Throws: The error the work threw (the same type if it is `Codable`, else ``RemoteTaskError``);
    ///   ``ProcessError`` `.exitedWithoutResult` when the child crashed, was killed or exited early,
    ///   `.unknownTaskType`, `.taskDecodingFailed` or `.outputEncodingFailed` when it could not run
    ///   the task or send its output.
    public func value() throws -> Output {
        try join()
        return try finishedValue()
    }

    /// Sends `SIGTERM`: Python's `Process.terminate()`. Does nothing if the child has ended.
    public func terminate() throws { try signal(.terminate) }

    /// Sends `SIGKILL`: Python's `Process.kill()`. Does nothing if the child has ended.
    public func kill() throws { try signal(.kill) }

    /// Sends `signal` to the child through its pidfd, immune to PID reuse.
    public func signal(_ signal: ProcessSignal) throws {
        try state.withLock { state in
            switch state.waitTarget {
            case .notStarted: throw ProcessError(.notStarted, "signal: \(name) was not started")
            case .finished: return
            case .running(let child, _):
                do throws(SystemCallError) {
                    try system_pidfd_send_signal(child.pidfd, signal.rawValue)
                } catch  where error.errno == .noSuchProcess {
                    return
                } catch {
                    throw ProcessError(error, pid: child.pid)
                }
            }
        }
    }

    /// Releases what the child object still holds: Python's `Process.close()`.
    ///
    /// Descriptors are already released when the child is joined; this checks that it was.
    /// - Throws: ``ProcessError/Code-swift.struct/stillRunning`` if the child has not been joined.
    public func close() throws {
        if let child = state.withLock({ $0.runningChild }) {
            throw ProcessError(.stillRunning, "close: \(name) is still running; join it first", pid: child.pid)
        }
    }

    // MARK: - Inspecting

    /// The child's process id once started (Python's `pid`).
    public var pid: Int32? {
        state.withLock { state in
            switch state.state {
            case .created: nil
            case .running(let child, _, _): child.pid
            case .finished(let pid, _, _): pid
            }
        }
    }

    /// Whether the child has started and not yet ended (Python's `is_alive()`).
    public var isAlive: Bool {
        state.withLock { state in
            guard let child = state.runningChild else { return false }
            return (try? system_poll(child.pidfd, until: Deadline(timeout: .zero))) == 0
        }
    }

    /// How the child ended, once it has been joined (Python's `exitcode`).
    public var exitStatus: ExitStatus? {
        state.withLock { state in
            if case .finished(let status) = state.waitTarget { return status }
            return nil
        }
    }

    /// A descriptor that becomes readable when the child ends (its pidfd): Python's `sentinel`.
    /// `nil` before the start and after the join. Use it with `Connection/wait(for:timeout:)`
    /// or your own `poll`; do not close it.
    public var sentinel: FileDescriptor? {
        state.withLock { state in state.runningChild.map { FileDescriptor(rawValue: $0.pidfd) } }
    }

    // MARK: - Internals

    /// One wait: polls the pidfd (and the control socket while the report is pending) until
    /// `deadline`, reads the report if it came, reaps the child if it ended. Returns the exit status
    /// once the child has ended, `nil` if the deadline passed first. Called under `joinLock`.
    private func waitStep(until deadline: Deadline) throws -> ExitStatus? {
        while true {
            let child: LaunchedChild
            let isReportPending: Bool
            switch state.withLock({ $0.waitTarget }) {
            case .notStarted: throw ProcessError(.notStarted, "join: \(name) was not started")
            case .finished(let status): return status
            case .running(let current, let pending): (child, isReportPending) = (current, pending)
            }
            var entries = [
                pollfd(fd: child.pidfd, events: Int16(POLLIN), revents: 0),
                pollfd(
                    fd: isReportPending ? child.control.descriptor?.rawValue ?? -1 : -1,
                    events: Int16(POLLIN),
                    revents: 0
                ),
            ]
            do throws(SystemCallError) {
                _ = try entries.withUnsafeMutableBufferPointer { (buffer) throws(SystemCallError) -> Int in
                    try system_poll(buffer, until: deadline)
                }
            } catch {
                throw ProcessError(error, pid: child.pid)
            }
            if entries[1].revents != 0 { receiveReport(from: child) }
            if entries[0].revents != 0 {
                let status: ExitStatus?
                do throws(SystemCallError) {
                    status = try child.waitForExit(noHang: true)
                } catch {
                    throw ProcessError(error, pid: child.pid)
                }
                if let status {
                    // A report sent before exiting is complete in the socket buffer by now.
                    if case .running(_, true) = state.withLock({ $0.waitTarget }), (try? child.control.poll()) == true {
                        receiveReport(from: child)
                    }
                    finish(child, status: status)
                    return status
                }
            }
            // Past the deadline and not exited: return, even while a report is still streaming in.
            if deadline.hasPassed { return nil }
        }
    }

    /// What an async waiter watches: the pidfd, and the control socket while the report is pending.
    /// The child is returned with them: the waiter holds it until the wait ends, so the pidfd cannot
    /// be closed (and its number reused) under the wait by another joiner.
    func waitInterests() -> (child: LaunchedChild, interests: [EventLoop.Interest])? {
        guard case .running(let child, let isReportPending) = state.withLock({ $0.waitTarget }) else { return nil }
        var interests = [EventLoop.Interest(fd: child.pidfd, readiness: .readable)]
        if isReportPending, let fd = child.control.descriptor?.rawValue {
            interests.append(EventLoop.Interest(fd: fd, readiness: .readable))
        }
        return (child, interests)
    }

    /// ``join(timeout:)`` with no wait, for the async overloads.
    func joinWithoutWaiting() throws -> ExitStatus? {
        try joinLock.withLock { _ in try waitStep(until: Deadline(timeout: .zero)) }
    }

    /// The result of a joined child.
    func finishedValue() throws -> Output {
        guard let result = state.withLock({ $0.result(name: name) }) else {
            preconditionFailure("finishedValue() before the child was joined")
        }
        return try result.get()
    }

    /// Reads the child's report, which is one frame holding the output or the error, without
    /// blocking: a report still arriving stays pending (and buffered), so a wait never overruns
    /// its timeout and an async join never blocks a thread while a large output crosses.
    private func receiveReport(from child: LaunchedChild) {
        let outcome: Result<Output, any Error>?
        do {
            outcome = try readReport(child.control, child.pid)
        } catch is FrameNotReady {
            return
        } catch let error as ConnectionError where error.code == .endOfStream {
            outcome = nil
        } catch {
            outcome = .failure(error)
        }
        state.withLock { $0.reportArrived(outcome) }
    }

    private func finish(_ child: LaunchedChild, status: ExitStatus) {
        guard let child = state.withLock({ $0.exited(pid: child.pid, status: status) }) else { return }
        // The descriptors close when the last holder of the child lets go (see LaunchedChild).
        child.control.close()
        ProcessLauncher.shared.unregister(child)
    }
}

/// Python's default names, `Process-1`, `Process-2`, … — here `ChildProcess-<n>`.
enum ChildProcessNames {
    private static let counter = ProtectedState(0)

    static func next() -> String {
        let number = counter.withLock { count in
            count += 1
            return count
        }
        return "ChildProcess-\(number)"
    }
}
