/// A pool of threads with ``ProcessPool``'s API: Python's `multiprocessing.pool.ThreadPool`.
/// Switch between the two by changing one word; a thread pool also takes closures, since its
/// work shares the caller's memory.
///
/// ```swift
/// let pool = ThreadPool(workers: 4)
/// let squares = try pool.map((1...8).map(Square.init))
/// let sum = try await pool.apply { (1...1_000).reduce(0, +) }
/// ```
///
/// Each worker is a thread of its own (not a Swift concurrency thread), so a task that blocks
/// (takes a lock, waits for a message) holds only its worker. What a thread pool cannot do is stop
/// a running task: a timeout throws ``PoolError/Code-swift.struct/timedOut`` to the caller, and
/// the task runs on to its end with its result dropped.
public final class ThreadPool: TaskPool {
    /// How many threads run tasks.
    public let workerCount: Int

    private let jobs = ProtectedState(JobQueue())
    private let signal = ConditionSignal()
    private let threads: [WorkerThread<NoOutput>]

    private struct JobQueue {
        var pending: [@Sendable () -> Void] = []
        var head = 0
        var isClosed = false
    }

    /// A pool of `workers` threads (by default the CPUs this process may use), started now.
    public init(workers: Int? = nil) {
        let count = workers ?? WorkerContext.cpuCount
        precondition(count >= 1, "a pool needs at least one worker, not \(count)")
        workerCount = count
        let jobs = jobs
        let signal = signal
        threads = (1...count).map { index in
            WorkerThread(name: "ThreadPool-\(index)", isDaemon: true) {
                while let job = Self.nextJob(jobs, signal) { job() }
                return NoOutput()
            }
        }
        for thread in threads {
            do { try thread.start() } catch { preconditionFailure("could not start a pool thread: \(error)") }
        }
    }

    deinit { close() }

    private static func nextJob(
        _ jobs: ProtectedState<JobQueue>,
        _ signal: ConditionSignal
    ) -> (@Sendable () -> Void)? {
        var job: (@Sendable () -> Void)?
        var finished = false
        signal.wait {
            jobs.withLock { queue in
                if queue.head < queue.pending.count {
                    job = queue.pending[queue.head]
                    queue.head += 1
                    if queue.head > 1024, queue.head * 2 > queue.pending.count {
                        queue.pending.removeFirst(queue.head)
                        queue.head = 0
                    }
                    return true
                }
                finished = queue.isClosed
                return finished
            }
        }
        return finished ? nil : job
    }

    private func enqueue(_ job: @escaping @Sendable () -> Void) throws(PoolError) {
        let accepted = jobs.withLock { queue in
            guard !queue.isClosed else { return false }
            queue.pending.append(job)
            return true
        }
        guard accepted else { throw PoolError(.closed, "the thread pool is closed") }
        signal.broadcast()
    }

    // MARK: - One task

    /// Runs `body` on a pool thread and returns what it returns.
    ///
    /// - Parameters:
    ///   - timeout: Stop waiting after this long (the body runs on; its result is dropped).
    ///   - body: The work; it shares this process's memory.
    public func apply<Output: Sendable>(
        timeout: Duration? = nil,
        _ body: @escaping @Sendable () throws -> Output
    ) async throws -> Output {
        // Whichever comes first, the job's end or the timer, resumes the caller; the other finds
        // it resumed already. The caller never waits for a job it gave up on.
        let resumed = ProtectedState(false)
        return try await withUnsafeThrowingContinuation { continuation in
            let finish: @Sendable (Result<Output, any Error>) -> Void = { result in
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(with: result) }
            }
            let timer = timeout.map { timeout in
                _Concurrency.Task {
                    try await _Concurrency.Task.sleep(for: timeout)
                    finish(.failure(PoolError(.timedOut, "a task ran past its timeout of \(timeout) on a pool thread")))
                }
            }
            do {
                try enqueue {
                    let result = Result { try body() }
                    timer?.cancel()
                    finish(result)
                }
            } catch {
                timer?.cancel()
                finish(.failure(error))
            }
        }
    }

    /// Runs `task` on a pool thread: `ProcessPool.apply(_:timeout:)` on a thread.
    ///
    /// - Parameters:
    ///   - task: What to run.
    ///   - timeout: Stop waiting after this long (the task runs on; its result is dropped).
    public func apply<Task: ParallelTask>(_ task: Task, timeout: Duration? = nil) async throws -> Task.Output {
        try await apply(timeout: timeout) { try blockingAwait { try await task.run() }.get() }
    }

    // MARK: - Many tasks

    /// Runs every task and returns their outputs in order: Python's `map`, as ``ProcessPool``'s.
    public func map<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int? = nil,
        timeout: Duration? = nil,
        progress: (@Sendable (PoolProgress) -> Void)? = nil
    ) async throws -> [Task.Output] {
        guard let (chunks, tracker) = mapPlan(tasks, chunkSize: chunkSize, workers: workerCount, progress: progress)
        else { return [] }
        return try await mapChunks(chunks, inFlight: workerCount * 2, tracker: tracker) { chunk in
            try await self.apply(chunk, timeout: timeout)
        }
    }

    // MARK: - Lifecycle

    /// Takes no more work; the threads finish what was queued and end: Python's `close()`.
    public func close() {
        jobs.withLock { $0.isClosed = true }
        signal.broadcast()
    }

    /// Waits until every thread has finished the queued work and ended (after ``close()``):
    /// Python's `join()`.
    public func join() {
        for thread in threads { _ = try? thread.join() }
    }
}
