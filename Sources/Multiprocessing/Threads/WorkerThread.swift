/// A joinable thread that runs a closure or a task and returns its result: what Python's
/// `threading.Thread` is in the deck, and what Foundation's `Thread` lacks (a join).
///
/// ```swift
/// let thread = WorkerThread { fibonacci(30) }
/// try thread.start()
/// let value = try thread.value()   // waits for the thread
/// ```
///
/// Swift threads run in parallel on all cores: there is no global interpreter lock.
///
/// As in Python, a thread is non-daemonic by default: a child process started by this library
/// waits for its non-daemon threads before it exits, so their work is not lost. A daemon thread
/// (`isDaemon: true`) is abandoned when the process ends.
public final class WorkerThread<Output: Sendable>: Sendable {
    /// The thread name shown by debuggers and `top -H` (the kernel keeps its first 15 bytes).
    public let name: String
    /// Whether the process may end while this thread runs (Python's `Thread.daemon`).
    public let isDaemon: Bool

    private let body: @Sendable () throws -> Output
    private let state = ProtectedState(State.created)
    private let finished = OneShotEvent()

    private enum State {
        case created
        case running(waiters: [UnsafeContinuation<Void, Never>])
        case finished(Result<Output, any Error>)
    }

    /// A thread that will run `body`.
    ///
    /// - Parameters:
    ///   - name: Defaults to `WorkerThread-<n>`.
    ///   - isDaemon: Python's `daemon`; `false` (the default) makes a child process wait for it.
    ///   - body: The work; what it returns or throws is what `value()` returns or throws.
    public init(name: String? = nil, isDaemon: Bool = false, _ body: @escaping @Sendable () throws -> Output) {
        self.name = name ?? "WorkerThread-\(WorkerThreadNames.next())"
        self.isDaemon = isDaemon
        self.body = body
    }

    /// A thread that will run `task` in this process (the same task a ``ChildProcess`` runs elsewhere).
    public convenience init<Task: ParallelTask>(name: String? = nil, isDaemon: Bool = false, running task: Task)
    where Task.Output == Output {
        self.init(name: name, isDaemon: isDaemon) { try blockingAwait { try await task.run() }.get() }
    }

    /// Starts the thread: Python's `Thread.start()`.
    ///
    /// - Throws: ``ProcessError/Code-swift.struct/alreadyStarted``; `.systemCallFailed` (`EAGAIN`).
    public func start() throws {
        try state.withLock { state in
            guard case .created = state else { throw ProcessError(.alreadyStarted, "\(name) was already started") }
            if !isDaemon { WorkerThreadRegistry.threadStarted() }
            do throws(SystemCallError) {
                try startDetachedThread(name: name) { [self] in
                    let result = Result { try body() }
                    let waiters = self.state.withLock { state in
                        defer { state = .finished(result) }
                        if case .running(let waiters) = state { return waiters }
                        return []
                    }
                    finished.set()
                    for waiter in waiters { waiter.resume() }
                    if !isDaemon { WorkerThreadRegistry.threadFinished() }
                }
            } catch {
                if !isDaemon { WorkerThreadRegistry.threadFinished() }
                throw ProcessError(error)
            }
            state = .running(waiters: [])
        }
    }

    /// Waits for the thread to finish: Python's `Thread.join(timeout)`.
    ///
    /// - Returns: Whether it finished (false only when `timeout` passed first).
    /// - Throws: ``ProcessError/Code-swift.struct/notStarted``.
    @discardableResult
    public func join(timeout: Duration? = nil) throws -> Bool {
        if case .created = state.withLock({ $0 }) { throw ProcessError(.notStarted, "join: \(name) was not started") }
        return finished.wait(timeout: timeout)
    }

    /// Waits for the thread and returns what its body returned, or rethrows what it threw.
    public func value() throws -> Output {
        try join()
        return try finishedResult().get()
    }

    /// Suspends until the thread finishes and returns its result, holding no thread meanwhile.
    /// See `value()`.
    public func value() async throws -> Output {
        let isFinished = try state.withLock { state -> Bool in
            switch state {
            case .created: throw ProcessError(.notStarted, "value: \(name) was not started")
            case .running: return false
            case .finished: return true
            }
        }
        if !isFinished {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard case .running(var waiters) = state else { return true }
                    waiters.append(continuation)
                    state = .running(waiters: waiters)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return try finishedResult().get()
    }

    /// Whether the thread has started and not yet finished (Python's `is_alive()`).
    public var isAlive: Bool {
        if case .running = state.withLock({ $0 }) { return true }
        return false
    }

    private func finishedResult() -> Result<Output, any Error> {
        guard case .finished(let result) = state.withLock({ $0 }) else {
            preconditionFailure("finished without result")
        }
        return result
    }
}

enum WorkerThreadNames {
    private static let counter = ProtectedState(0)

    static func next() -> Int {
        counter.withLock { count in
            count += 1
            return count
        }
    }
}

/// Counts running non-daemon ``WorkerThread``s, so a child process can wait for them before it exits.
enum WorkerThreadRegistry {
    private static let running = ProtectedState(0)
    private static let allFinished = ConditionSignal()

    static func threadStarted() { running.withLock { $0 += 1 } }

    static func threadFinished() {
        let remaining = running.withLock { count in
            count -= 1
            return count
        }
        if remaining == 0 { allFinished.broadcast() }
    }

    /// In a forked child: the parent's threads do not exist here, so none is counted (and a lock
    /// a parent thread held at the fork is replaced).
    static func resetAfterFork() {
        running.resetAfterFork(0)
        allFinished.resetAfterFork()
    }

    /// Blocks until no non-daemon thread runs.
    static func waitForNonDaemonThreads() {
        allFinished.wait(until: { running.withLock { $0 == 0 } })
    }
}
