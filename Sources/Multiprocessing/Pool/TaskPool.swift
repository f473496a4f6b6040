/// What ``ProcessPool`` and ``ThreadPool`` both do, so that code written against one runs on the
/// other: switch by changing one word, or take `some TaskPool`.
public protocol TaskPool: Sendable {
    /// How many workers run tasks at once.
    var workerCount: Int { get }

    /// Runs `task` on a worker and returns its output: Python's `apply`.
    func apply<Task: ParallelTask>(_ task: Task, timeout: Duration?) async throws -> Task.Output

    /// Runs every task and returns their outputs in order: Python's `map`.
    func map<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int?,
        timeout: Duration?,
        progress: (@Sendable (PoolProgress) -> Void)?
    ) async throws -> [Task.Output]

    /// Takes no more work: Python's `close()`.
    func close()
}

extension TaskPool {
    /// Runs `task` on a worker and waits for its output (synchronous code only).
    public func apply<Task: ParallelTask>(_ task: Task, timeout: Duration? = nil) throws -> Task.Output {
        try blockingAwait { try await self.apply(task, timeout: timeout) }.get()
    }

    /// Starts `task` on a worker and returns at once: Python's `apply_async` and
    /// `Executor.submit`. The returned Swift `Task` is the future: `await` its `value`, or
    /// `cancel()` it (a process pool then stops the worker running it).
    @discardableResult
    public func submit<Task: ParallelTask>(
        _ task: Task,
        timeout: Duration? = nil
    )
        -> _Concurrency.Task<
            Task.Output, any Error
        >
    {
        _Concurrency.Task { try await self.apply(task, timeout: timeout) }
    }

    /// Runs every task and waits for their outputs in order (synchronous code only).
    public func map<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int? = nil,
        timeout: Duration? = nil,
        progress: (@Sendable (PoolProgress) -> Void)? = nil
    ) throws -> [Task.Output] {
        let all = Array(tasks)
        return try blockingAwait {
            try await self.map(all, chunkSize: chunkSize, timeout: timeout, progress: progress)
        }.get()
    }
}
