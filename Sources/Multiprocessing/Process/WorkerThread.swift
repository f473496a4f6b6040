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
public final class WorkerThread<Output: Sendable>: Sendable {
    /// The thread name shown by debuggers and `top -H` (the kernel keeps its first 15 bytes).
    public let name: String

    private let body: @Sendable () throws -> Output
    private let state = ProtectedState(State.created)
    private let finished = OneShotEvent()

    private enum State {
        case created
        case running
        case finished(Result<Output, any Error>)
    }

    /// A thread that will run `body`.
    public init(name: String? = nil, _ body: @escaping @Sendable () throws -> Output) {
        self.name = name ?? "WorkerThread-\(WorkerThreadNames.next())"
        self.body = body
    }

    /// A thread that will run `task` in this process (the same task a ``ChildProcess`` runs elsewhere).
    public convenience init<Task: ParallelTask>(name: String? = nil, running task: Task) where Task.Output == Output {
        self.init(name: name) { try blockingAwait { try await task.run() }.get() }
    }

    /// Starts the thread: Python's `Thread.start()`.
    ///
    /// - Throws: ``ProcessError/Code-swift.struct/alreadyStarted``; `.systemCallFailed` (`EAGAIN`).
    public func start() throws {
        try state.withLock { state in
            guard case .created = state else { throw ProcessError(.alreadyStarted, "\(name) was already started") }
            do throws(SystemCallError) {
                try startDetachedThread(name: name) { [self] in
                    let result = Result { try body() }
                    self.state.withLock { $0 = .finished(result) }
                    finished.set()
                }
            } catch {
                throw ProcessError(error)
            }
            state = .running
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
        guard case .finished(let result) = state.withLock({ $0 }) else {
            preconditionFailure("finished without result")
        }
        return try result.get()
    }

    /// Suspends until the thread finishes and returns its result. See ``value()``.
    public func value() async throws -> Output {
        try await BlockingCall.run { try self.value() }
    }

    /// Whether the thread has started and not yet finished (Python's `is_alive()`).
    public var isAlive: Bool {
        if case .running = state.withLock({ $0 }) { return true }
        return false
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
