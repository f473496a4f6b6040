/// The outputs of many tasks run on a ``ProcessPool`` or a ``ThreadPool``, as they come: Python's `imap` (in order)
/// and `imap_unordered` (as completed).
///
/// ```swift
/// for try await output in pool.imap((0..<100_000_000).lazy.map(Square.init)) { … }
/// ```
///
/// The input is read lazily, a chunk at a time, and only as far as the results are consumed: at
/// most `window` chunks are in flight, so an endless or huge input is never materialized. Stopping
/// the iteration (or cancelling the task that iterates) cancels the chunks in flight, which stops
/// their workers.
public struct PoolResults<Task: ParallelTask>: AsyncSequence, Sendable {
    public typealias Element = Task.Output
    public typealias Failure = any Error

    let pool: any TaskPool
    let source: TaskSource<Task>
    let chunkSize: Int
    let window: Int
    let ordered: Bool
    let timeout: Duration?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(state: PoolResultsState(results: self))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let state: PoolResultsState<Task>

        public mutating func next() async throws -> Task.Output? {
            try await state.next()
        }
    }
}

/// The input of a ``PoolResults``: an iterator read by one consumer at a time, under a lock.
final class TaskSource<Task: ParallelTask>: @unchecked Sendable {
    private let iterator: ProtectedState<AnyIterator<Task>>

    init(_ tasks: some Sequence<Task>) {
        iterator = ProtectedState(AnyIterator(tasks.makeIterator()))
    }

    /// Up to `count` more tasks; fewer (or none) at the end.
    func take(_ count: Int) -> [Task] {
        iterator.withLock { iterator in
            var chunk: [Task] = []
            chunk.reserveCapacity(count)
            while chunk.count < count, let task = iterator.next() { chunk.append(task) }
            return chunk
        }
    }
}

/// One iteration's chunks in flight and outputs ready, driven by `next()`.
final class PoolResultsState<Task: ParallelTask>: @unchecked Sendable {
    private let results: PoolResults<Task>
    private let (completions, completionSink) = AsyncStream.makeStream(of: Int.self)
    private var completionIterator: AsyncStream<Int>.Iterator
    private var inFlight: [Int: _Concurrency.Task<[Task.Output], any Error>] = [:]
    private var nextChunk = 0
    private var nextToYield = 0
    private var ready: [Task.Output] = []
    private var readyIndex = 0
    private var inputEnded = false

    init(results: PoolResults<Task>) {
        self.results = results
        completionIterator = completions.makeAsyncIterator()
    }

    deinit {
        for task in inFlight.values { task.cancel() }
        completionSink.finish()
    }

    func next() async throws -> Task.Output? {
        while true {
            if readyIndex < ready.count {
                defer { readyIndex += 1 }
                return ready[readyIndex]
            }
            fill()
            if inFlight.isEmpty { return nil }
            let index: Int
            if results.ordered {
                index = nextToYield
                nextToYield += 1
            } else {
                guard let completed = await completionIterator.next() else { throw CancellationError() }
                index = completed
            }
            guard let task = inFlight.removeValue(forKey: index) else { continue }
            do {
                ready = try await withTaskCancellationHandler {
                    try await task.value
                } onCancel: {
                    task.cancel()
                }
                readyIndex = 0
            } catch {
                for other in inFlight.values { other.cancel() }
                inFlight.removeAll()
                inputEnded = true
                throw error
            }
        }
    }

    /// Starts chunks until `window` are in flight or the input ends.
    private func fill() {
        while !inputEnded, inFlight.count < results.window {
            let chunk = results.source.take(results.chunkSize)
            if chunk.isEmpty {
                inputEnded = true
                break
            }
            let index = nextChunk
            nextChunk += 1
            let pool = results.pool
            let timeout = results.timeout
            // Only an unordered iteration waits for completions; an ordered one would only pile them up.
            let sink = results.ordered ? nil : completionSink
            inFlight[index] = _Concurrency.Task {
                defer { sink?.yield(index) }
                return try await pool.apply(TaskChunk(tasks: chunk), timeout: timeout)
            }
        }
    }
}

extension TaskPool {
    /// The outputs in the order of the tasks, as they become available: Python's `imap`.
    ///
    /// - Parameters:
    ///   - tasks: The tasks, read lazily as results are consumed.
    ///   - chunkSize: Tasks sent to a worker at a time (Python's default for `imap` is 1).
    ///   - window: Chunks in flight at most; by default two per worker.
    ///   - timeout: Stop a chunk that runs longer than this (a process pool stops its worker too).
    public func imap<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int = 1,
        window: Int? = nil,
        timeout: Duration? = nil
    ) -> PoolResults<Task> {
        results(tasks, chunkSize: chunkSize, window: window, ordered: true, timeout: timeout)
    }

    /// The outputs as tasks complete, in any order: Python's `imap_unordered`.
    ///
    /// - Parameters:
    ///   - tasks: The tasks, read lazily as results are consumed.
    ///   - chunkSize: Tasks sent to a worker at a time (Python's default is 1).
    ///   - window: Chunks in flight at most; by default two per worker.
    ///   - timeout: Stop a chunk that runs longer than this (a process pool stops its worker too).
    public func imapUnordered<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int = 1,
        window: Int? = nil,
        timeout: Duration? = nil
    ) -> PoolResults<Task> {
        results(tasks, chunkSize: chunkSize, window: window, ordered: false, timeout: timeout)
    }

    private func results<Task: ParallelTask>(
        _ tasks: some Sequence<Task>,
        chunkSize: Int,
        window: Int?,
        ordered: Bool,
        timeout: Duration?
    ) -> PoolResults<Task> {
        precondition(chunkSize >= 1, "chunkSize must be at least 1")
        precondition((window ?? 1) >= 1, "window must be at least 1")
        return PoolResults(
            pool: self,
            source: TaskSource(tasks),
            chunkSize: chunkSize,
            window: window ?? workerCount * 2,
            ordered: ordered,
            timeout: timeout
        )
    }
}
