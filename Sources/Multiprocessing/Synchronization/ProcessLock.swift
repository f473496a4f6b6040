/// A lock that works across processes and threads alike: Python's `multiprocessing.Lock`.
///
/// ```swift
/// let lock = try ProcessLock()
/// let child = ChildProcess(running: AppendInOrder(lock: lock, list: list))   // crosses as a descriptor
/// try lock.withLock { … }
/// ```
///
/// It lives in shared memory (a robust, process-shared `pthread_mutex_t`), so a copy handed to a
/// spawned child inside its task, or inherited by a forked child, is the same lock. A holder that
/// dies while holding it does not deadlock the others: the next acquirer gets it with
/// ``LockAcquisition/previousOwnerDied`` and the lock is usable again.
///
/// Not recursive: locking it twice from one thread deadlocks, as Python's `Lock` does.
///
/// By default a released lock goes to whoever takes it first, which may be a newcomer rather than
/// the longest waiter (Python's lock behaves the same; it is the fastest choice). Make it with
/// ``Fairness/firstComeFirstServed`` when the order matters: waiters then get it in the order
/// they asked, each handed the lock directly by the one releasing it.
public final class ProcessLock: Sendable {
    /// Who gets a contended lock when it is released.
    public enum Fairness: Hashable, Sendable {
        /// Whoever takes it first: a waiter woken by the release, or a thread that just arrived.
        /// The fastest under contention; a waiter can be overtaken.
        case unordered
        /// Waiters in the order they asked, across threads and processes: the release hands the
        /// lock to the longest waiter and nobody can barge in. Kept by the kernel (a priority-
        /// inheritance futex), so a waiter that times out or dies simply leaves the queue.
        /// Real-time (`SCHED_FIFO`/`SCHED_RR`) threads go ahead of ordinary ones. Uncontended
        /// lock/unlock costs about twice as much, and each contended hand-over is a context switch.
        case firstComeFirstServed
    }

    private let state: MutexSegment
    var segment: SharedMemory { state.segment }
    private var mutex: RobustMutex { state.mutex }

    /// A new, unlocked lock in a segment of its own.
    ///
    /// - Parameter fairness: Who gets the lock when it is released while others wait.
    /// - Throws: ``SharedMemoryError`` `.systemCallFailed` (`EMFILE`, `ENOMEM`).
    public init(fairness: Fairness = .unordered) throws(SharedMemoryError) {
        state = try MutexSegment(kind: .lock, mutex: fairness == .firstComeFirstServed ? .firstComeFirstServed : [])
    }

    /// Who gets this lock when it is released while others wait (as made, in every process).
    public var fairness: Fairness {
        segment.mutexOptions.contains(.firstComeFirstServed) ? .firstComeFirstServed : .unordered
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        state = try MutexSegment(validating: segment, kind: .lock)
    }

    /// Acquires the lock, waiting as long as it takes: Python's `acquire()`.
    ///
    /// - Returns: ``LockAcquisition/previousOwnerDied`` when the holder died holding it.
    /// - Throws: ``SharedMemoryError/Code-swift.struct/notRecoverable`` only if another library
    ///   left the lock unrecovered.
    @discardableResult
    public func lock() throws(SharedMemoryError) -> LockAcquisition { try mutex.lock() }

    /// Acquires the lock, waiting at most `timeout`: Python's `acquire(timeout=)`.
    ///
    /// - Returns: How it was acquired, or `nil` when `timeout` passed first.
    public func lock(timeout: Duration) throws(SharedMemoryError) -> LockAcquisition? {
        try mutex.lock(timeout: timeout)
    }

    /// Acquires the lock only if it is free now: Python's `acquire(block=False)`.
    ///
    /// - Returns: How it was acquired, or `nil` when someone holds it.
    public func tryLock() throws(SharedMemoryError) -> LockAcquisition? { try mutex.tryLock() }

    /// Releases the lock: Python's `release()`.
    ///
    /// - Important: Only the thread that holds the lock may release it; anything else traps.
    public func unlock() { mutex.unlock() }

    /// Runs `body` holding the lock: Python's `with lock:`.
    public func withLock<Result>(_ body: () throws -> Result) throws -> Result { try state.withLock(body) }
}

/// A lock crosses to another process inside any `Codable` value (a task, a message) as the
/// descriptor of its segment.
extension ProcessLock: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
