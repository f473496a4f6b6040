import SystemPackage
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
/// All members may be called from any thread. ``join(timeout:)`` and ``value()`` block; their
/// `async` overloads suspend instead.
public final class ChildProcess<Output: Sendable>: Sendable {
    /// The process name, for messages and diagnostics (Python's `Process.name`).
    public let name: String
    /// Whether the child is terminated when the parent exits normally, instead of being waited for.
    public let isDaemon: Bool
    /// How the child is started.
    public let startMethod: StartMethod

    let work: Work
    private let state = ProtectedState(State.created)
    private let joinLock = ProtectedState(())

    enum Work: @unchecked Sendable {
        case task(typeName: String, checkedLocally: Bool, send: (Connection) throws -> Void)
        case closure(() throws -> Output, encode: (Output, Connection) -> Int32)
    }

    struct Running {
        var pid: pid_t
        var pidfd: CInt
        var lifeline: CInt
        var control: Connection
    }

    private enum State {
        case created
        case running(Running)
        case finished(pid: pid_t, status: ExitStatus)
    }

    private let outcome = ProtectedState<Result<Output, any Error>?>(nil)
    private let decodeOutput: @Sendable (Connection) throws -> Output

    // MARK: - Creating

    /// A child that will run `task` in a re-executed copy of this program (``StartMethod/spawn``).
    ///
    /// - Parameters:
    ///   - task: The work; its type must be visible by name (see ``ParallelTask``).
    ///   - name: Defaults to `ChildProcess-<n>`, as Python's `Process-<n>`.
    ///   - isDaemon: Python's `daemon`.
    public init<Task: ParallelTask>(running task: Task, name: String? = nil, isDaemon: Bool = false)
    where Task.Output == Output {
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon
        startMethod = .spawn
        let typeName = _mangledTypeName(Task.self) ?? ""
        work = .task(typeName: typeName, checkedLocally: true, send: { try $0.send(task) })
        decodeOutput = { try $0.receive(Output.self) }
    }

    /// A child that runs `body` in a forked copy of this process (``StartMethod/fork``).
    ///
    /// - Important: Read the hazards of ``StartMethod/fork``: `body` must be synchronous and must not
    ///   wait on other threads, Dispatch or Swift concurrency.
    public init(name: String? = nil, isDaemon: Bool = false, forking body: @escaping @Sendable () throws -> Output)
    where Output: Codable {
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon
        startMethod = .fork
        work = .closure(body, encode: { sendReport(.success($0), over: $1) })
        decodeOutput = { try $0.receive(Output.self) }
    }

    /// A child that runs `body`, which returns nothing, in a forked copy of this process.
    public init(name: String? = nil, isDaemon: Bool = false, forking body: @escaping @Sendable () throws -> Void)
    where Output == Void {
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon
        startMethod = .fork
        work = .closure(body, encode: { _, control in sendReport(.success(NoOutput()), over: control) })
        decodeOutput = { _ = try $0.receive(NoOutput.self) }
    }

    /// A spawned child told to run the type named `typeName` with `payload` as its encoding, without
    /// checking the name here: for tests of the child's own checks.
    init<Payload: Encodable & Sendable>(uncheckedTypeName typeName: String, payload: Payload) where Output: Decodable {
        name = ChildProcessNames.next()
        isDaemon = false
        startMethod = .spawn
        work = .task(typeName: typeName, checkedLocally: false, send: { try $0.send(payload) })
        decodeOutput = { try $0.receive(Output.self) }
    }

    deinit {
        if case .running(let running) = state.withLock({ $0 }) {
            if isDaemon { try? system_pidfd_send_signal(running.pidfd, SIGTERM) }
            running.control.close()
            ProcessLauncher.shared.abandon(pidfd: running.pidfd, lifeline: running.lifeline)
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
        try state.withLock { state in
            guard case .created = state else {
                throw ProcessError(.alreadyStarted, "\(name) was already started")
            }
            if case .task(let typeName, true, _) = work {
                guard !typeName.isEmpty, _typeByName(typeName) != nil else {
                    throw ProcessError(
                        .unsupportedTaskType,
                        "the task type of \(name) cannot be found by name; declare it at file scope, not private or local"
                    )
                }
            }
            state = .running(try launch())
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
        try joinLock.withLock { _ in
            let running: Running
            switch state.withLock({ $0 }) {
            case .created: throw ProcessError(.notStarted, "join: \(name) was not started")
            case .finished(_, let status): return status
            case .running(let current): running = current
            }
            let deadline = Deadline(timeout: timeout)
            var watchControl = true
            while true {
                var entries = [
                    pollfd(fd: running.pidfd, events: Int16(POLLIN), revents: 0),
                    pollfd(
                        fd: watchControl ? running.control.descriptor?.rawValue ?? -1 : -1,
                        events: Int16(POLLIN),
                        revents: 0
                    ),
                ]
                do throws(SystemCallError) {
                    _ = try system_poll(&entries, 2, deadline.pollTimeout)
                } catch  where error.errno == .interrupted {
                    continue
                } catch {
                    throw ProcessError(error, pid: running.pid)
                }
                if entries[1].revents != 0 {
                    watchControl = readReport(from: running.control)
                }
                if entries[0].revents != 0 {
                    let status: ExitStatus?
                    do throws(SystemCallError) {
                        status = try system_waitid(pidfd: running.pidfd, noHang: true)
                    } catch {
                        throw ProcessError(error, pid: running.pid)
                    }
                    if let status {
                        // A report sent before exiting is complete in the socket buffer by now.
                        if watchControl, (try? running.control.poll()) == true {
                            _ = readReport(from: running.control)
                        }
                        finish(running, status: status)
                        return status
                    }
                }
                if deadline.hasPassed { return nil }
            }
        }
    }

    /// Waits for the child and returns what its work returned.
    ///
    /// - Throws: The error the work threw (the same type if it is `Codable`, else ``RemoteTaskError``);
    ///   ``ProcessError`` `.exitedWithoutResult` when the child crashed, was killed or exited early,
    ///   `.unknownTaskType` or `.taskDecodingFailed` when it could not run the task.
    public func value() throws -> Output {
        let status = try join()!
        if let result = outcome.withLock({ $0 }) { return try result.get() }
        throw ProcessError(
            .exitedWithoutResult,
            "\(name) ended without delivering a result",
            pid: pid,
            exitStatus: status
        )
    }

    /// Sends `SIGTERM`: Python's `Process.terminate()`. Does nothing if the child has ended.
    public func terminate() throws { try signal(SIGTERM) }

    /// Sends `SIGKILL`: Python's `Process.kill()`. Does nothing if the child has ended.
    public func kill() throws { try signal(SIGKILL) }

    /// Sends `signal` to the child through its pidfd, immune to PID reuse.
    public func signal(_ signal: Int32) throws {
        try state.withLock { state in
            switch state {
            case .created: throw ProcessError(.notStarted, "signal: \(name) was not started")
            case .finished: return
            case .running(let running):
                do throws(SystemCallError) {
                    try system_pidfd_send_signal(running.pidfd, signal)
                } catch  where error.errno == .noSuchProcess {
                    return
                } catch {
                    throw ProcessError(error, pid: running.pid)
                }
            }
        }
    }

    // MARK: - Inspecting

    /// The child's process id once started (Python's `pid`).
    public var pid: Int32? {
        state.withLock { state in
            switch state {
            case .created: nil
            case .running(let running): running.pid
            case .finished(let pid, _): pid
            }
        }
    }

    /// Whether the child has started and not yet ended (Python's `is_alive()`).
    public var isAlive: Bool {
        state.withLock { state in
            guard case .running(let running) = state else { return false }
            var entry = pollfd(fd: running.pidfd, events: Int16(POLLIN), revents: 0)
            return (try? system_poll(&entry, 1, 0)) == 0
        }
    }

    /// How the child ended, once it has been joined (Python's `exitcode`).
    public var exitStatus: ExitStatus? {
        state.withLock { state in
            if case .finished(_, let status) = state { return status }
            return nil
        }
    }

    // MARK: - Internals

    /// Reads the child's report if one is complete. Returns whether to keep watching the connection.
    private func readReport(from control: Connection) -> Bool {
        let result: Result<Output, any Error>
        do {
            switch try control.receive(ChildReport.self) {
            case .output:
                result = .success(try decodeOutput(control))
            case .thrown(let typeName, let description, let mangled, let payload):
                result = .failure(
                    ChildReport.reconstruct(
                        typeName: typeName,
                        description: description,
                        mangledTypeName: mangled,
                        payload: payload
                    )
                )
            case .setupFailed(let code, let message):
                result = .failure(ProcessError(ProcessError.Code(storage: code), message, pid: pid))
            }
        } catch let error as ConnectionError where error.code == .endOfStream {
            return false
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
        return false
    }

    private func finish(_ running: Running, status: ExitStatus) {
        state.withLock { $0 = .finished(pid: running.pid, status: status) }
        running.control.close()
        ProcessLauncher.shared.unregister(pid: running.pid, lifeline: running.lifeline)
        system_close(running.pidfd)
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
