/// A pool of worker processes that run tasks: Python's `multiprocessing.Pool`, without its hangs.
///
/// ```swift
/// let pool = try ProcessPool(workers: 5)
/// let results = try pool.map((0..<5).map { _ in Fibonacci(n: 40) })   // Demo #2
/// let one = try await pool.apply(Fibonacci(n: 30))
/// pool.close()
/// ```
///
/// Workers are spawned when first needed, serve many tasks each, and carry every child's
/// guarantees (they die with the parent, nothing is left as a zombie). What Python's pool gets
/// wrong, this one does not:
/// - A worker that crashes (a signal, `exit`, out of memory) fails only the task it was running,
///   with ``PoolError/Code-swift.struct/workerCrashed`` and its exit status, and is replaced.
/// - A timeout stops the worker running the task (TERM, a grace period, KILL) and throws
///   ``PoolError/Code-swift.struct/timedOut``; cancelling an awaiting caller does the same.
/// - Awaiting results holds no thread; the blocking forms are for synchronous code.
public final class ProcessPool: TaskPool {
    /// The most workers that run at once: Python's `processes`.
    public let workerCount: Int
    /// After this many tasks a worker is replaced by a fresh one: Python's `maxtasksperchild`.
    public let maximumTasksPerWorker: Int?
    /// How workers are started: `.spawn` or `.forkServer`.
    public let startMethod: StartMethod

    private let startWorker: @Sendable (String) throws -> WorkerProcess
    private let state = ProtectedState(PoolState())

    /// A new pool. No process starts until the first task.
    ///
    /// - Parameters:
    ///   - workers: How many workers at most; `nil` means the CPUs this process may use.
    ///   - maximumTasksPerWorker: Replace a worker after this many tasks (a chunk counts as one).
    ///   - startMethod: `.spawn` (the default) or `.forkServer`, which starts and replaces workers
    ///     several times faster (the pool traps on `.fork`: its tasks are `ParallelTask`s).
    /// - Throws: ``PoolError`` never; a `precondition` rejects counts below 1.
    public convenience init(
        workers: Int? = nil,
        maximumTasksPerWorker: Int? = nil,
        startMethod: StartMethod = .spawn
    ) {
        self.init(workers: workers, maximumTasksPerWorker: maximumTasksPerWorker, startMethod: startMethod) {
            try $0.start()
        }
    }

    /// A new pool whose every worker runs `initializer` once before its first task: Python's
    /// `Pool(initializer=)`. A worker whose initializer throws fails the task that started it.
    ///
    /// - Parameters:
    ///   - workers: How many workers at most; `nil` means the CPUs this process may use.
    ///   - maximumTasksPerWorker: Replace a worker after this many tasks (a chunk counts as one).
    ///   - startMethod: `.spawn` (the default) or `.forkServer`.
    ///   - initializer: Run once in each worker before its first task.
    public convenience init<Initializer: ParallelTask>(
        workers: Int? = nil,
        maximumTasksPerWorker: Int? = nil,
        startMethod: StartMethod = .spawn,
        initializer: Initializer
    ) {
        self.init(workers: workers, maximumTasksPerWorker: maximumTasksPerWorker, startMethod: startMethod) {
            try $0.start(initializer: initializer)
        }
    }

    private init(
        workers: Int?,
        maximumTasksPerWorker: Int?,
        startMethod: StartMethod,
        start: @escaping @Sendable (WorkerProcess) throws -> Void
    ) {
        let count = workers ?? WorkerContext.cpuCount
        precondition(count >= 1, "a pool needs at least one worker, not \(count)")
        precondition((maximumTasksPerWorker ?? 1) >= 1, "maximumTasksPerWorker must be at least 1")
        precondition(startMethod != .fork, "a ProcessPool starts workers with .spawn or .forkServer")
        workerCount = count
        self.maximumTasksPerWorker = maximumTasksPerWorker
        self.startMethod = startMethod
        startWorker = { name in
            let worker = WorkerProcess(name: name, startMethod: startMethod)
            try start(worker)
            return worker
        }
    }

    deinit {
        // Workers see their control connection close and exit; nothing is left behind.
        let workers = state.withLock { state in
            state.isClosed = true
            return Array(state.workers.values)
        }
        for worker in workers { worker.terminate(grace: .milliseconds(100)) }
    }

    // MARK: - One task

    /// Runs `task` on a worker and returns its output: Python's `apply`.
    ///
    /// - Parameters:
    ///   - task: What to run.
    ///   - timeout: Stop the task (and its worker) after this long.
    /// - Throws: The task's error; ``PoolError`` `.workerCrashed`, `.timedOut`, `.closed`;
    ///   `CancellationError` (the worker is stopped and replaced).
    public func apply<Task: ParallelTask>(_ task: Task, timeout: Duration? = nil) async throws -> Task.Output {
        let worker = try await acquire()
        do {
            let output = try await run(task, on: worker.process, timeout: timeout)
            release(worker, reusable: true)
            return output
        } catch let error as ProcessError where error.code == .exitedWithoutResult {
            release(worker, reusable: false)
            throw PoolError(
                .workerCrashed,
                "\(worker.process.name) died running a \(Task.self)",
                exitStatus: error.exitStatus
            )
        } catch let error as PoolError {
            release(worker, reusable: false)
            throw error
        } catch is CancellationError {
            release(worker, reusable: false)
            throw CancellationError()
        } catch {
            release(worker, reusable: true)  // the task's own error: the worker is fine
            throw error
        }
    }

    // MARK: - Many tasks

    /// Runs every task and returns their outputs in order: Python's `map`. Tasks go to workers in
    /// chunks (Python's `chunksize`; by default Python's choice, about four chunks per worker).
    ///
    /// - Throws: The first error a task threw (or a ``PoolError``); the tasks still running are
    ///   cancelled.
    public func map<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int? = nil,
        timeout: Duration? = nil,
        progress: (@Sendable (PoolProgress) -> Void)? = nil
    ) async throws -> [Task.Output] {
        guard let (chunks, tracker) = mapPlan(tasks, chunkSize: chunkSize, workers: workerCount, progress: progress)
        else { return [] }
        guard timeout == nil else { return try await mapChunksOneByOne(chunks, timeout: timeout, tracker: tracker) }
        return try await mapChunksPipelined(chunks, tracker: tracker).flatMap { $0 }
    }

    /// Each chunk a call of its own, so that each can be timed out on its own.
    private func mapChunksOneByOne<Task: ParallelTask>(
        _ chunks: [TaskChunk<Task>],
        timeout: Duration?,
        tracker: ProgressTracker?
    ) async throws -> [Task.Output] {
        try await mapChunks(chunks, inFlight: workerCount * 2, tracker: tracker) { chunk in
            try await self.apply(chunk, timeout: timeout)
        }
    }

    /// Every worker pulls chunks from one plan with the next one already sent, so no worker waits
    /// for the parent between chunks (Python's pool streams its tasks the same way). A worker that
    /// dies fails the chunk it was running; the chunks sent to it but not started go back to the
    /// plan for the others.
    private func mapChunksPipelined<Task: ParallelTask>(
        _ chunks: [TaskChunk<Task>],
        tracker: ProgressTracker?
    ) async throws -> [[Task.Output]] {
        let plan = ChunkPlan<[Task.Output]>(count: chunks.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(workerCount, chunks.count) {
                group.addTask { try await self.pump(chunks, plan, tracker) }
            }
            try await group.waitForAll()
        }
        return try plan.outputs()
    }

    private func pump<Task: ParallelTask>(
        _ chunks: [TaskChunk<Task>],
        _ plan: ChunkPlan<[Task.Output]>,
        _ tracker: ProgressTracker?
    ) async throws {
        let limit = maximumTasksPerWorker ?? Int.max
        while plan.hasWork {
            let worker = try await acquire()
            var taken = 0
            let end: WorkerProcess.PipelineEnd
            do {
                end = try await worker.process.runPipelined(
                    depth: 16,
                    next: { inFlight -> (index: Int, task: TaskChunk<Task>)? in
                        guard worker.tasksRun.withLock({ $0 }) + taken < limit,
                            let index = plan.take(ahead: inFlight, workers: workerCount)
                        else { return nil }
                        taken += 1
                        return (index, chunks[index])
                    },
                    deliver: { index, result in
                        plan.deliver(index, result)
                        if case .success(let outputs) = result { tracker?.completed(outputs.count) }
                    }
                )
            } catch {
                release(worker, reusable: false, counting: taken)
                throw error
            }
            switch end {
            case .finished:
                release(worker, reusable: true, counting: taken)
            case .workerDied(let crashed, let unstarted, let error):
                plan.deliver(
                    crashed,
                    .failure(
                        PoolError(
                            .workerCrashed,
                            "\(worker.process.name) died running a chunk of \(Task.self)",
                            exitStatus: error.exitStatus
                        )
                    )
                )
                plan.giveBack(unstarted)
                release(worker, reusable: false, counting: taken)
            }
        }
    }

    /// Python's chunk size for `map`: the tasks over four times the workers, rounded up.
    static func automaticChunkSize(count: Int, workers: Int) -> Int {
        let (quotient, remainder) = count.quotientAndRemainder(dividingBy: workers * 4)
        return max(1, quotient + (remainder > 0 ? 1 : 0))
    }

    /// `tasks` cut in chunks of `chunkSize` (or Python's automatic size for `workers`).
    static func chunks<Task: ParallelTask>(of tasks: [Task], chunkSize: Int?, workers: Int) -> [TaskChunk<Task>] {
        let size = chunkSize ?? automaticChunkSize(count: tasks.count, workers: workers)
        precondition(size >= 1, "chunkSize must be at least 1")
        return stride(from: 0, to: tasks.count, by: size).map {
            TaskChunk(tasks: Array(tasks[$0..<min($0 + size, tasks.count)]))
        }
    }

    // MARK: - Lifecycle

    /// Takes no more work; idle workers exit now, busy ones after their task: Python's `close()`.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.isClosed = true
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume(returning: .closed) }
        for worker in idle { retire(worker, healthy: true) }
    }

    /// Stops every worker now (TERM, a grace period, KILL): Python's `terminate()`. Tasks in
    /// flight fail with ``PoolError/Code-swift.struct/workerCrashed``.
    public func terminate() {
        close()
        let workers = state.withLock { Array($0.workers.values) }
        for worker in workers { worker.terminate(grace: .milliseconds(200)) }
    }

    /// How many workers are running a task now.
    public var busyWorkerCount: Int {
        state.withLock { $0.workers.count - $0.idle.count }
    }

    /// The workers' process ids, for inspection.
    public var workerProcessIDs: [Int32] {
        state.withLock { $0.workers.values.compactMap(\.pid) }
    }

    // MARK: - Workers

    private final class PooledWorker: Sendable {
        let process: WorkerProcess
        let tasksRun = ProtectedState(0)
        init(_ process: WorkerProcess) { self.process = process }
    }

    private enum Handoff {
        case worker(PooledWorker)
        case start(Int)
        case closed
    }

    private struct PoolState {
        var idle: [PooledWorker] = []
        var waiters: [UnsafeContinuation<Handoff, Never>] = []
        /// Workers alive or being started.
        var started = 0
        var nextIndex = 0
        var isClosed = false
        var workers: [ObjectIdentifier: WorkerProcess] = [:]
    }

    private func acquire() async throws -> PooledWorker {
        let workerCount = workerCount
        let immediate = state.withLock { state -> Handoff? in
            if state.isClosed { return .closed }
            if let worker = state.idle.popLast() { return .worker(worker) }
            if state.started < workerCount {
                state.started += 1
                state.nextIndex += 1
                return .start(state.nextIndex)
            }
            return nil
        }
        let handoff: Handoff
        if let immediate {
            handoff = immediate
        } else {
            handoff = await withUnsafeContinuation { continuation in
                let now = state.withLock { state -> Handoff? in
                    if state.isClosed { return .closed }
                    if let worker = state.idle.popLast() { return .worker(worker) }
                    state.waiters.append(continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        }
        if _Concurrency.Task.isCancelled {
            // Cancelled while waiting: give back what was handed over, and run nothing.
            switch handoff {
            case .worker(let worker): release(worker, reusable: true, counting: 0)
            case .start: handBack()
            case .closed: break
            }
            throw CancellationError()
        }
        switch handoff {
        case .worker(let worker):
            return worker
        case .closed:
            throw PoolError(.closed, "the pool is closed")
        case .start(let index):
            do {
                let process = try startWorker("PoolWorker-\(index)")
                state.withLock { $0.workers[ObjectIdentifier(process)] = process }
                return PooledWorker(process)
            } catch {
                handBack()
                throw error
            }
        }
    }

    /// Gives a worker back after a task, or retires it (crashed, stopped, or at its task limit)
    /// and lets a waiting caller start its replacement.
    private func release(_ worker: PooledWorker, reusable: Bool, counting tasks: Int = 1) {
        let count = worker.tasksRun.withLock { runs in
            runs += tasks
            return runs
        }
        let atLimit = maximumTasksPerWorker.map { count >= $0 } ?? false
        if !reusable || atLimit {
            retire(worker, healthy: reusable)
            handBack()
            return
        }
        let waiter = state.withLock { state -> UnsafeContinuation<Handoff, Never>? in
            if state.isClosed { return nil }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(worker)
            return nil
        }
        if let waiter {
            waiter.resume(returning: .worker(worker))
        } else if state.withLock({ $0.isClosed }) {
            retire(worker, healthy: true)
            handBack()
        }
    }

    /// One worker fewer: a waiting caller (if any) may start a new one.
    private func handBack() {
        let handoff = state.withLock { state -> (UnsafeContinuation<Handoff, Never>, Handoff)? in
            state.started -= 1
            guard !state.isClosed, !state.waiters.isEmpty else { return nil }
            state.started += 1
            state.nextIndex += 1
            return (state.waiters.removeFirst(), .start(state.nextIndex))
        }
        if let (waiter, next) = handoff { waiter.resume(returning: next) }
    }

    /// Ends a worker for good: a healthy one is told to exit, a broken one is already gone or
    /// stopped.
    private func retire(_ worker: PooledWorker, healthy: Bool) {
        state.withLock { _ = $0.workers.removeValue(forKey: ObjectIdentifier(worker.process)) }
        if healthy {
            _ = try? worker.process.close()
        } else {
            worker.process.terminate(grace: .milliseconds(200))
        }
    }

    /// Runs a task, stopping its worker when `timeout` passes first.
    private func run<Task: ParallelTask>(
        _ task: Task,
        on worker: WorkerProcess,
        timeout: Duration?
    ) async throws -> Task.Output {
        guard let timeout else { return try await worker.run(task) }
        return try await withThrowingTaskGroup(of: Task.Output?.self) { group in
            group.addTask { try await worker.run(task) }
            group.addTask {
                try await _Concurrency.Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let output = first else {
                // The timer won: cancelling the run stops the worker.
                group.cancelAll()
                _ = try? await group.next()
                throw PoolError(.timedOut, "a \(Task.self) ran past its timeout of \(timeout) on \(worker.name)")
            }
            return output
        }
    }
}
