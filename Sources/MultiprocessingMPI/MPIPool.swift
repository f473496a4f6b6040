#if MPI
public import Multiprocessing

/// A pool whose workers are MPI ranks: mpi4py's `MPICommExecutor`, with `ProcessPool`'s API
/// (`TaskPool`: `apply`, `map`, `imap`, `imapUnordered`, `submit`), so the same program runs on
/// one machine or across a cluster.
///
/// Every rank runs the same binary and creates the pool; the root (rank 0) gets it, every other
/// rank serves tasks inside the initializer until the root closes the pool, and then gets `nil`:
///
/// ```swift
/// guard let pool = try MPIPool() else { return }   // the worker ranks are done
/// let results = try await pool.map((1...100).map(Fibonacci.init))
/// pool.close()
/// ```
///
/// Run it with `mpirun -np 5 .build/release/App`: one root and 4 workers. Without `mpirun` the
/// process is alone (a job of size 1), and the pool runs its tasks on a `ProcessPool` of local
/// workers instead, so the program works unchanged on a laptop.
///
/// Tasks go to whichever worker is free (each worker holds at most two, so it never waits for the
/// root between tasks); an error thrown by a task reaches its caller. MPI cannot stop a rank, so a
/// timeout or cancellation frees the caller while the task runs on, its result dropped, as in a
/// `ThreadPool`; a rank that dies ends the whole MPI job, as `mpirun` does.
public final class MPIPool: TaskPool {
    /// How many workers run tasks at once: the ranks other than the root, or the local processes.
    public let workerCount: Int

    private enum Backend {
        case ranks(MPIPoolScheduler)
        case local(ProcessPool)
    }

    private let backend: Backend

    /// On the root, a pool of the other ranks of `communicator`; on every other rank, serves the
    /// root's tasks until it closes its pool, then returns `nil`. Every rank must call it.
    ///
    /// - Parameters:
    ///   - communicator: The ranks to use; by default every rank of the job.
    ///   - root: The rank that gets the pool and schedules.
    ///   - localWorkers: Processes to start when the job has one rank (by default one per CPU).
    ///   - initializer: Run once on each worker before its first task: Python's and mpi4py's
    ///     `initializer=`. A worker whose initializer throws fails every task it is given with
    ///     that error (Python's pool would restart such workers forever).
    public init?(
        communicator: MPICommunicator? = nil,
        root: Int = 0,
        localWorkers: Int? = nil,
        initializer: (any ParallelTask)? = nil
    ) throws {
        let given = try communicator ?? MPICommunicator.world
        guard (0..<given.size).contains(root) else {
            throw MPIError(.invalidArgument, "root \(root) is not in this communicator of size \(given.size)")
        }
        if given.size == 1 {
            let pool = Self.localPool(workers: localWorkers, initializer: initializer)
            backend = .local(pool)
            workerCount = pool.workerCount
            return
        }
        try MPIEnvironment.requireMultipleThreads(for: "MPIPool")
        // A message space of its own, so the pool's messages never meet the program's.
        let own = try given.duplicate()
        if own.rank != root {
            try MPIPoolWorker.serve(own, root: root, initializer: initializer)
            return nil
        }
        let scheduler = MPIPoolScheduler(communicator: own, root: root)
        backend = .ranks(scheduler)
        workerCount = own.size - 1
        // A root that ends without closing its pool still releases the workers, or mpirun would wait.
        MPIEnvironment.atExit { [weak scheduler] in scheduler?.releaseWorkers() }
    }

    deinit { close() }

    private static func localPool(workers: Int?, initializer: (any ParallelTask)?) -> ProcessPool {
        guard let initializer else { return ProcessPool(workers: workers) }
        func withInitializer<Initializer: ParallelTask>(_ initializer: Initializer) -> ProcessPool {
            ProcessPool(workers: workers, initializer: initializer)
        }
        return withInitializer(initializer)
    }

    /// Runs `task` on a free worker and returns its output: Python's `apply`.
    ///
    /// - Parameters:
    ///   - task: What to run; its type must be found by name on the workers (declared at file scope).
    ///   - timeout: Stop waiting after this long with `PoolError.timedOut` (on
    ///     ranks the task runs on and its result is dropped; local workers are stopped).
    public func apply<Task: ParallelTask>(_ task: Task, timeout: Duration? = nil) async throws -> Task.Output {
        switch backend {
        case .local(let pool): return try await pool.apply(task, timeout: timeout)
        case .ranks(let scheduler): return try await scheduler.apply(task, timeout: timeout)
        }
    }

    /// Runs every task and returns their outputs in order: Python's `map`, with its chunk sizes.
    public func map<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int? = nil,
        timeout: Duration? = nil,
        progress: (@Sendable (PoolProgress) -> Void)? = nil
    ) async throws -> [Task.Output] {
        switch backend {
        case .local(let pool):
            return try await pool.map(tasks, chunkSize: chunkSize, timeout: timeout, progress: progress)
        case .ranks(let scheduler):
            guard let (chunks, tracker) = mapPlan(tasks, chunkSize: chunkSize, workers: workerCount, progress: progress)
            else { return [] }
            return try await mapChunks(chunks, inFlight: workerCount * 2, tracker: tracker) { chunk in
                try await scheduler.apply(chunk, timeout: timeout)
            }
        }
    }

    /// Takes no more work; once the tasks in flight are done, the worker ranks stop serving and
    /// return from their `MPIPool` initializer: Python's `close()`.
    public func close() {
        switch backend {
        case .local(let pool): pool.close()
        case .ranks(let scheduler): scheduler.close()
        }
    }

}
#endif
