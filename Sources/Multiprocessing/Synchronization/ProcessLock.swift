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
public final class ProcessLock: Sendable {
    private let state: MutexSegment
    var segment: SharedMemory { state.segment }
    private var mutex: RobustMutex { state.mutex }

    /// A new, unlocked lock in a segment of its own.
    ///
    /// - Throws: ``SharedMemoryError`` `.systemCallFailed` (`EMFILE`, `ENOMEM`).
    public init() throws(SharedMemoryError) {
        state = try MutexSegment(kind: .lock, recursive: false)
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
