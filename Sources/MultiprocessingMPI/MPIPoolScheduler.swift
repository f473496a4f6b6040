#if MPI
import Multiprocessing

/// The root's side of an ``MPIPool``: hands each task to the least busy worker rank (a caller waits,
/// first come first served, when all are full), sends it, and matches the answer by its tag.
final class MPIPoolScheduler: Sendable {
    /// Tasks a worker may hold at once: one running, one waiting in its queue, so it never idles
    /// waiting for the root between tasks.
    static let tasksPerWorker = 2

    private struct State {
        var inFlight: [Int]
        var waiting: [(id: Int, continuation: UnsafeContinuation<Int, any Error>)] = []
        var cancelledBeforeWaiting: Set<Int> = []
        var nextWaiterID = 0
        var nextTag = 1
        var isClosed = false
        var workersReleased = false
    }

    private let communicator: MPICommunicator
    private let workerRanks: [Int]
    private let state: ProtectedState<State>

    init(communicator: MPICommunicator, root: Int) {
        self.communicator = communicator
        workerRanks = (0..<communicator.size).filter { $0 != root }
        state = ProtectedState(State(inFlight: [Int](repeating: 0, count: workerRanks.count)))
    }

    func apply<Task: ParallelTask>(_ task: Task, timeout: Duration?) async throws -> Task.Output {
        let message = try MPIPoolProtocol.taskMessage(task)
        let (worker, tag) = try await acquire()
        // From here the worker owns the task until its answer is read, whatever happens to the
        // caller: the answer is always received, so it can never be mistaken for a later one.
        let job = _Concurrency.Task { () async throws -> Task.Output in
            defer { self.release(worker) }
            let rank = self.workerRanks[worker]
            try await self.communicator.sendBytes(message, to: rank, tag: tag)
            let answer = try await self.communicator.probe(from: rank, tag: tag)
            let bytes = try self.communicator.receiveMatchedBytes(answer)
            let report: TaskReport<Task.Output>
            do { report = try BinaryDecoder().decode(TaskReport<Task.Output>.self, from: bytes) } catch {
                throw MPIError(
                    .decodingFailed,
                    "the answer of rank \(rank) to a \(String(reflecting: Task.self)) did not decode: \(error)"
                )
            }
            return try report.result(pid: nil).get()
        }
        return try await FirstOutcome.race(job, timeout: timeout) {
            PoolError(.timedOut, "a \(String(reflecting: Task.self)) ran past its timeout of \($0) on an MPI rank")
        }
    }

    /// A worker with room and a fresh tag; waits, first come first served, while all are full.
    private func acquire() async throws -> (worker: Int, tag: Int) {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        let worker = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Int, any Error>) in
                state.withLock { state in
                    if state.cancelledBeforeWaiting.remove(id) != nil {
                        continuation.resume(throwing: CancellationError())
                    } else if state.isClosed {
                        continuation.resume(throwing: PoolError(.closed, "the MPI pool is closed"))
                    } else if let worker = state.inFlight.indices.min(by: { state.inFlight[$0] < state.inFlight[$1] }),
                        state.inFlight[worker] < Self.tasksPerWorker
                    {
                        state.inFlight[worker] += 1
                        continuation.resume(returning: worker)
                    } else {
                        state.waiting.append((id, continuation))
                    }
                }
            }
        } onCancel: {
            state.withLock { state in
                if let index = state.waiting.firstIndex(where: { $0.id == id }) {
                    state.waiting.remove(at: index).continuation.resume(throwing: CancellationError())
                } else {
                    state.cancelledBeforeWaiting.insert(id)
                }
            }
        }
        let tag = state.withLock { state in
            defer { state.nextTag = state.nextTag >= communicator.tagUpperBound ? 1 : state.nextTag + 1 }
            return state.nextTag
        }
        return (worker, tag)
    }

    /// The worker's slot goes to the first waiting caller, or back to the worker.
    private func release(_ worker: Int) {
        let releaseWorkers = state.withLock { state in
            if !state.waiting.isEmpty {
                state.waiting.removeFirst().continuation.resume(returning: worker)
                return false
            }
            state.inFlight[worker] -= 1
            return state.isClosed && state.inFlight.allSatisfy { $0 == 0 }
        }
        if releaseWorkers { self.releaseWorkers() }
    }

    func close() {
        let (waiting, idle) = state.withLock { state in
            state.isClosed = true
            defer { state.waiting.removeAll() }
            return (state.waiting, state.inFlight.allSatisfy { $0 == 0 })
        }
        for waiter in waiting { waiter.continuation.resume(throwing: PoolError(.closed, "the MPI pool was closed")) }
        if idle { releaseWorkers() }
    }

    /// Tells every worker rank to stop serving (once). A task still queued on a rank runs first:
    /// MPI delivers one sender's messages in order.
    func releaseWorkers() {
        let first = state.withLock { state in
            state.isClosed = true
            defer { state.workersReleased = true }
            return !state.workersReleased
        }
        guard first else { return }
        for rank in workerRanks { try? communicator.sendBytes([], to: rank, tag: MPIPoolProtocol.stopTag) }
    }
}

/// The first of a job's result, a timeout and the caller's cancellation; the job itself runs on.
final class FirstOutcome<Output: Sendable>: Sendable {
    private struct State {
        var continuation: UnsafeContinuation<Output, any Error>?
        var pending: Result<Output, any Error>?
        var resolved = false
    }

    private let state = ProtectedState(State())

    private func resolve(_ result: Result<Output, any Error>) {
        let continuation: UnsafeContinuation<Output, any Error>? = state.withLock { state in
            guard !state.resolved else { return nil }
            guard let continuation = state.continuation else {
                if state.pending == nil { state.pending = result }
                return nil
            }
            state.resolved = true
            return continuation
        }
        continuation?.resume(with: result)
    }

    private func install(_ continuation: UnsafeContinuation<Output, any Error>) {
        let pending: Result<Output, any Error>? = state.withLock { state in
            guard let pending = state.pending else {
                state.continuation = continuation
                return nil
            }
            state.resolved = true
            return pending
        }
        if let pending { continuation.resume(with: pending) }
    }

    static func race(
        _ job: _Concurrency.Task<Output, any Error>,
        timeout: Duration?,
        timedOut: @escaping @Sendable (Duration) -> any Error
    ) async throws -> Output {
        let outcome = FirstOutcome()
        let timer = timeout.map { timeout in
            _Concurrency.Task {
                try await _Concurrency.Task.sleep(for: timeout)
                outcome.resolve(.failure(timedOut(timeout)))
            }
        }
        _Concurrency.Task {
            let result = await job.result
            timer?.cancel()
            outcome.resolve(result)
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { outcome.install($0) }
        } onCancel: {
            outcome.resolve(.failure(CancellationError()))
        }
    }
}
#endif
