#if canImport(Glibc)
import Glibc
#endif

/// A spawned worker that stays and serves many tasks, one at a time: the parent's side of
/// ``WorkerLoop``. Pools, the fork server and the manager's server process build on it; a
/// ``ChildProcess`` is the case of one task.
///
/// It has the guarantees of every child: it dies with its parent (parent-death signal and
/// lifeline), it is reaped through its pidfd, and a worker that dies in the middle of a task
/// fails that task with ``ProcessError/Code-swift.struct/exitedWithoutResult`` and its
/// ``ExitStatus`` (the signal or exit code), never a hang.
package final class WorkerProcess: Sendable {
    package let name: String
    package let isDaemon: Bool
    /// `.spawn` or `.forkServer`.
    package let startMethod: StartMethod

    private let state = ProtectedState(State.created)
    /// Set while a task is in flight: a worker runs one task at a time.
    private let isBusy = ProtectedState(false)
    /// Held by the one thread that reaps: `close`, `terminate` and a failed task may race to it.
    private let reapLock = ProtectedState(())

    private enum State {
        case created
        case running(LaunchedChild)
        case finished(pid: pid_t, status: ExitStatus)
    }

    package init(name: String? = nil, isDaemon: Bool = true, startMethod: StartMethod = .spawn) {
        precondition(startMethod != .fork, "a WorkerProcess is started with .spawn or .forkServer")
        self.name = name ?? ChildProcessNames.next()
        self.isDaemon = isDaemon
        self.startMethod = startMethod
    }

    deinit {
        if case .running(let child) = state.withLock({ $0 }) {
            // The worker sees end of stream and exits; the launcher reaps it. Shut down first: a
            // forked sibling holding a copy of this end must not keep the stream open.
            try? child.control.finishSending()
            child.control.close()
            ProcessLauncher.shared.abandon(child)
        }
    }

    /// Starts the worker.
    package func start() throws {
        try start(initializer: NoInitializer?.none)
    }

    /// Starts the worker; it runs `initializer` once before any task (Python's
    /// `Pool(initializer=)`). If the initializer throws, this throws its error and the worker exits.
    package func start<Initializer: ParallelTask>(initializer: Initializer?) throws {
        try state.withLock { state in
            guard case .created = state else { throw ProcessError(.alreadyStarted, "\(name) was already started") }
            let parent = WorkerContext.currentProcess
            let configuration = WorkerConfiguration(
                processName: name,
                isDaemon: isDaemon,
                startMethod: startMethod,
                parentName: parent.name,
                parentPid: parent.pid,
                printsTaskErrors: false
            )
            let child = try ProcessLauncher.shared.startWorker(configuration)
            state = .running(child)
        }
        if let initializer {
            do {
                _ = try exchange(initializer, request: .initialize(typeName: try Self.typeName(of: Initializer.self)))
            } catch {
                // The worker exits after a failed initializer; reap it before reporting.
                _ = try? close()
                throw error
            }
        }
    }

    /// Runs `task` in the worker and returns its output, or throws what it threw.
    ///
    /// - Throws: The task's error (as itself when `Codable`, else ``RemoteTaskError``);
    ///   ``ProcessError`` `.exitedWithoutResult` (with the exit status) when the worker died during
    ///   the task, `.notStarted`, `.unsupportedTaskType`.
    package func run<Task: ParallelTask>(_ task: Task) throws -> Task.Output {
        try exchange(task, request: .run(typeName: try Self.typeName(of: Task.self)))
    }

    /// Runs `task` in the worker, suspending (without holding a thread) until it reports.
    ///
    /// Cancelling the awaiting task stops the worker (it would otherwise answer the next request
    /// with this task's report) and throws `CancellationError`.
    package func run<Task: ParallelTask>(_ task: Task) async throws -> Task.Output {
        let request = WorkerRequest.run(typeName: try Self.typeName(of: Task.self))
        let child = try begin()
        defer { isBusy.withLock { $0 = false } }
        do {
            try await child.control.sendPair(request, task)
            return try await child.control.receive(TaskReport<Task.Output>.self).result(pid: child.pid).get()
        } catch let failure as FramePairNotEncoded {
            throw failure.underlying  // nothing was sent: the worker is as it was
        } catch is CancellationError {
            // The worker is still running the task and would answer a later request with this
            // task's report: a cancelled task stops its worker (TERM, grace, KILL), as Python's
            // `Pool.terminate()` would, rather than leave it out of step.
            _ = reap(child, terminate: .milliseconds(100))
            throw CancellationError()
        } catch let error as ConnectionError where error.code == .endOfStream {
            do {
                while try await !EventLoop.shared.wait(for: child.pidfd, .readable) {}
            } catch let error as SystemCallError {
                throw ProcessError(error, pid: child.pid)
            }
            throw diedDuringTask(child)
        }
    }

    /// How a pipelined run ended.
    package enum PipelineEnd: Sendable {
        /// `next` ran out and every result was delivered.
        case finished
        /// The worker died running the task at `crashed`; `unstarted` were sent but never began.
        case workerDied(crashed: Int, unstarted: [Int], error: ProcessError)
    }

    /// Runs tasks pulled from `next`, keeping up to `depth` of them sent ahead so the worker never
    /// waits for the parent between tasks; each result goes to `deliver` with its index, in the
    /// order sent. A task's error is delivered, not thrown. `next` is told how many tasks are in
    /// flight; it may decline (return `nil`) while some are, and is asked again after each result.
    ///
    /// - Throws: `CancellationError` (the worker is stopped, as ``run(_:)`` does).
    package func runPipelined<Task: ParallelTask>(
        depth: Int,
        next: (_ inFlight: Int) -> (index: Int, task: Task)?,
        deliver: (Int, Result<Task.Output, any Error>) -> Void
    ) async throws -> PipelineEnd {
        let request = WorkerRequest.run(typeName: try Self.typeName(of: Task.self))
        let child = try begin()
        defer { isBusy.withLock { $0 = false } }
        var inFlight: [Int] = []
        var head = 0
        // A send that fails means the worker is gone, but reports it wrote before it died may
        // still wait to be read: stop sending and read on until the end of the stream.
        var canSend = true
        do {
            while true {
                while canSend, inFlight.count - head < depth, let (index, task) = next(inFlight.count - head) {
                    inFlight.append(index)
                    do {
                        try await child.control.sendPair(request, task)
                    } catch let failure as FramePairNotEncoded {
                        // Nothing was sent: the task fails alone and the pipeline goes on.
                        inFlight.removeLast()
                        deliver(index, .failure(failure.underlying))
                    } catch let error as ConnectionError where error.code == .endOfStream || error.code == .closed {
                        canSend = false
                    }
                }
                guard head < inFlight.count else { return .finished }
                let report = try await child.control.receive(TaskReport<Task.Output>.self)
                deliver(inFlight[head], report.result(pid: child.pid))
                head += 1
                if head > 1024 {
                    inFlight.removeFirst(head)
                    head = 0
                }
            }
        } catch is CancellationError {
            _ = reap(child, terminate: .milliseconds(100))
            throw CancellationError()
        } catch let error as ConnectionError where error.code == .endOfStream || error.code == .closed {
            do {
                while try await !EventLoop.shared.wait(for: child.pidfd, .readable) {}
            } catch let error as SystemCallError {
                throw ProcessError(error, pid: child.pid)
            }
            guard head < inFlight.count else { throw diedDuringTask(child) }
            return .workerDied(
                crashed: inFlight[head],
                unstarted: Array(inFlight[(head + 1)...]),
                error: diedDuringTask(child)
            )
        }
    }

    /// Tells the worker there is no more work and waits for it to exit.
    @discardableResult
    package func close() throws -> ExitStatus {
        let child: LaunchedChild
        switch state.withLock({ $0 }) {
        case .created: throw ProcessError(.notStarted, "close: \(name) was not started")
        case .finished(_, let status): return status
        case .running(let current): child = current
        }
        try? child.control.finishSending()
        return reap(child)
    }

    /// Ends the worker now: `SIGTERM`, a grace period, `SIGKILL`, and reaps it.
    package func terminate(grace: Duration = .seconds(1)) {
        guard case .running(let child) = state.withLock({ $0 }) else { return }
        _ = reap(child, terminate: grace)
    }

    /// The worker's process id once started.
    package var pid: Int32? {
        switch state.withLock({ $0 }) {
        case .created: nil
        case .running(let child): child.pid
        case .finished(let pid, _): pid
        }
    }

    /// How the worker ended, once it has.
    package var exitStatus: ExitStatus? {
        if case .finished(_, let status) = state.withLock({ $0 }) { return status }
        return nil
    }

    // MARK: - Internals

    /// Type names already checked: mangling and looking up a name costs more than a tiny task.
    private static let checkedTypeNames = ProtectedState<[ObjectIdentifier: String]>([:])

    package static func typeName<Task>(of type: Task.Type) throws -> String {
        if let known = checkedTypeNames.withLock({ $0[ObjectIdentifier(type)] }) { return known }
        guard let name = _mangledTypeName(type), _typeByName(name) != nil else {
            throw ProcessError(
                .unsupportedTaskType,
                "the task type \(type) cannot be found by name; declare it at file scope, not private or local"
            )
        }
        checkedTypeNames.withLock { $0[ObjectIdentifier(type)] = name }
        return name
    }

    private func begin() throws -> LaunchedChild {
        guard case .running(let child) = state.withLock({ $0 }) else {
            throw ProcessError(.notStarted, "\(name) is not running")
        }
        let wasBusy = isBusy.withLock { busy in
            defer { busy = true }
            return busy
        }
        precondition(!wasBusy, "a WorkerProcess runs one task at a time")
        return child
    }

    private func exchange<Task: ParallelTask>(_ task: Task, request: WorkerRequest) throws -> Task.Output {
        let child = try begin()
        defer { isBusy.withLock { $0 = false } }
        do {
            try child.control.sendPair(request, task)
            return try child.control.receive(TaskReport<Task.Output>.self).result(pid: child.pid).get()
        } catch let failure as FramePairNotEncoded {
            throw failure.underlying  // nothing was sent: the worker is as it was
        } catch let error as ConnectionError where error.code == .endOfStream {
            throw diedDuringTask(child)
        }
    }

    /// The worker closed its end in the middle of a task: it died. Reap it and say how.
    private func diedDuringTask(_ child: LaunchedChild) -> ProcessError {
        let status = reap(child)
        return ProcessError(
            .exitedWithoutResult,
            "\(name) ended during a task without delivering its result",
            pid: child.pid,
            exitStatus: status
        )
    }

    /// Reaps the worker (ending it first with `terminate`) and releases its descriptors. Exactly one
    /// caller waits for the process; the others get the status it recorded.
    private func reap(_ child: LaunchedChild, terminate grace: Duration? = nil) -> ExitStatus {
        reapLock.withLock { _ in
            if case .finished(_, let status) = state.withLock({ $0 }) { return status }
            let status =
                grace.map { Teardown.terminate(child, grace: $0) }
                ?? (try? child.waitForExit(noHang: false)) ?? .exited(-1)
            state.withLock { $0 = .finished(pid: child.pid, status: status ?? .exited(-1)) }
            child.control.close()
            ProcessLauncher.shared.unregister(child)
            return status ?? .exited(-1)
        }
    }
}

/// The initializer of a worker that has none.
package struct NoInitializer: ParallelTask {
    package func run() -> NoOutput { NoOutput() }
}
