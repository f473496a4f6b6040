/// A lock its holder may take again, across processes and threads: Python's `multiprocessing.RLock`.
///
/// The same thread may call ``lock()`` several times; the lock is free once it called ``unlock()`` as
/// often. Like ``ProcessLock`` it lives in shared memory (a robust, process-shared, recursive
/// `pthread_mutex_t`), crosses to a child inside its task, and a holder that dies hands it to the
/// next acquirer with ``LockAcquisition/previousOwnerDied``.
public final class ProcessRecursiveLock: Sendable {
    private let state: MutexSegment
    var segment: SharedMemory { state.segment }
    private var mutex: RobustMutex { state.mutex }

    /// A new, unlocked recursive lock.
    ///
    /// - Throws: ``SharedMemoryError`` `.systemCallFailed` (`EMFILE`, `ENOMEM`).
    public init() throws(SharedMemoryError) {
        state = try MutexSegment(kind: .recursiveLock, mutex: .recursive)
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        state = try MutexSegment(validating: segment, kind: .recursiveLock)
    }

    /// Acquires the lock (again, if this thread holds it): Python's `acquire()`.
    @discardableResult
    public func lock() throws(SharedMemoryError) -> LockAcquisition { try mutex.lock() }

    /// Acquires the lock, waiting at most `timeout`; `nil` when it passed first.
    public func lock(timeout: Duration) throws(SharedMemoryError) -> LockAcquisition? {
        try mutex.lock(timeout: timeout)
    }

    /// Acquires the lock only if this thread holds it or it is free; `nil` otherwise.
    public func tryLock() throws(SharedMemoryError) -> LockAcquisition? { try mutex.tryLock() }

    /// Releases one level of the lock: Python's `release()`.
    ///
    /// - Important: Only the holding thread may release it; anything else traps.
    public func unlock() { mutex.unlock() }

    /// Runs `body` holding the lock; `body` may take it again.
    public func withLock<Result>(_ body: () throws -> Result) throws -> Result { try state.withLock(body) }
}

/// A recursive lock crosses to another process inside any `Codable` value as its segment's descriptor.
extension ProcessRecursiveLock: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
