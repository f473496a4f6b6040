public import Multiprocessing
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// Task types for the pool tests.

/// Returns twice its value: the tiny task.
public struct TwiceTask: ParallelTask {
    public var value: Int
    public init(_ value: Int) { self.value = value }
    public func run() -> Int { value * 2 }
}

/// Returns its value, or ends its process first: by a signal, or by `exit(code)`.
public struct MaybeCrashTask: ParallelTask {
    public var value: Int
    public var signal: Int32?
    public var exitCode: Int32?
    public init(_ value: Int, signal: Int32? = nil, exitCode: Int32? = nil) {
        self.value = value
        self.signal = signal
        self.exitCode = exitCode
    }
    public func run() -> Int {
        if let signal { raise(signal) }
        if let exitCode { exit(exitCode) }
        return value
    }
}

/// Sleeps, then returns how long it slept: a task that can outlive its timeout.
public struct NapTask: ParallelTask {
    public var milliseconds: Int
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public func run() async throws -> Int {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return milliseconds
    }
}

/// The worker's process id.
public struct WhoRunsTask: ParallelTask {
    public init() {}
    public func run() -> Int32 { getpid() }
}

/// An error a task throws on purpose; `Codable`, so it arrives as itself.
public struct PlannedFailure: Error, Codable, Equatable {
    public var value: Int
    public init(value: Int) { self.value = value }
}

/// Throws ``PlannedFailure`` for `failing`, returns the value otherwise.
public struct FailOnTask: ParallelTask {
    public var value: Int
    public var failing: Int
    public init(_ value: Int, failing: Int) {
        self.value = value
        self.failing = failing
    }
    public func run() throws -> Int {
        if value == failing { throw PlannedFailure(value: value) }
        return value
    }
}

/// How many times this worker's initializer ran.
nonisolated(unsafe) var initializerRuns = 0

/// A pool initializer that counts its runs in the worker.
public struct CountInitializerTask: ParallelTask {
    public init() {}
    public func run() -> NoOutput {
        initializerRuns += 1
        return NoOutput()
    }
}

/// Returns how many times this worker's initializer ran.
public struct InitializerRunsTask: ParallelTask {
    public init() {}
    public func run() -> Int { initializerRuns }
}

/// A counter that closures on any thread may bump.
public final class ProtectedCounter: Sendable {
    private let count = Mutex(0)
    public init() {}
    public func increment() { count.withLock { $0 += 1 } }
    public var value: Int { count.withLock { $0 } }
}

/// A program with a pool: starts `workers` workers with `startMethod`, reports their pids, then
/// waits to be interrupted.
public struct PoolProgramTask: ParallelTask {
    public var report: Connection
    public var startMethod: StartMethod
    public var workers: Int
    public init(report: Connection, startMethod: StartMethod, workers: Int) {
        self.report = report
        self.startMethod = startMethod
        self.workers = workers
    }
    public func run() async throws -> NoOutput {
        let pool = ProcessPool(workers: workers, startMethod: startMethod)
        // One task per worker that waits for all of them at a barrier: every worker must be up at
        // once, however slowly each starts (a finished worker would otherwise take the next task).
        let barrier = try ProcessBarrier(parties: workers)
        _ = try await pool.map((0..<workers).map { _ in BarrierTask(barrier: barrier, rounds: 1) }, chunkSize: 1)
        try await report.send(pool.workerProcessIDs)
        while true { pause() }
    }
}
