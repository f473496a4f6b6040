import Atomics

/// A condition variable across processes and threads: Python's `multiprocessing.Condition`.
///
/// ```swift
/// let condition = try ProcessCondition()
/// try condition.withLock {
///     while !ready() { _ = try condition.wait() }    // releases the lock while it waits
/// }
/// // elsewhere: try condition.withLock { makeReady(); condition.notify() }
/// ```
///
/// A sequence word in shared memory, waited on with a shared futex, next to a ``ProcessLock``
/// (its own, or one passed in). A wait reads the sequence, releases the lock, sleeps until a
/// notification changes the sequence, and takes the lock again; so a notification between the
/// release and the sleep is never lost. Waits may end early (as Python's may): check the predicate
/// in a loop, or use ``wait(for:timeout:)``.
public final class ProcessCondition: @unchecked Sendable {
    let segment: SharedMemory
    /// The lock a waiter must hold.
    public let lock: ProcessLock
    private let sequence: UnsafeMutablePointer<UInt32>

    /// A condition over `lock`, or over a new lock of its own.
    ///
    /// - Throws: ``SharedMemoryError`` `.systemCallFailed`.
    public init(lock: ProcessLock? = nil) throws(SharedMemoryError) {
        if let lock { self.lock = lock } else { self.lock = try ProcessLock() }
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + 4)
        try SegmentHeader.initialize(segment, kind: .condition, payloadByteCount: 4, stride: 4)
        sequence = segment.payload(as: UInt32.self, capacity: 1)
    }

    init(validating segment: SharedMemory, lock: ProcessLock) throws(SharedMemoryError) {
        guard try SegmentHeader.validate(segment, kind: .condition, stride: 4) == 4 else {
            throw SharedMemoryError(.sizeMismatch, "a condition segment holds one 4-byte word")
        }
        self.segment = segment
        self.lock = lock
        sequence = segment.payload(as: UInt32.self, capacity: 1)
    }

    private var atomic: UnsafeAtomic<UInt32> {
        sharedAtomic(sequence)
    }

    /// Runs `body` holding the condition's lock: Python's `with condition:`.
    public func withLock<Result>(_ body: () throws -> Result) throws -> Result { try lock.withLock(body) }

    /// Releases the lock, waits for a notification or `timeout`, and takes the lock again: Python's
    /// `wait(timeout)`. The caller must hold the lock.
    ///
    /// - Returns: False when `timeout` passed without a notification.
    /// - Throws: ``SharedMemoryError/Code-swift.struct/notRecoverable`` only if retaking the lock fails.
    @discardableResult
    public func wait(timeout: Duration? = nil) throws(SharedMemoryError) -> Bool {
        let deadline = Deadline(timeout: timeout)
        let seen = atomic.load(ordering: .acquiring)
        lock.unlock()
        var notified = true
        while atomic.load(ordering: .acquiring) == seen {
            if !system_futex_wait(sequence, expected: seen, until: deadline) {
                notified = atomic.load(ordering: .acquiring) != seen
                break
            }
        }
        _ = try lock.lock()
        return notified
    }

    /// Waits until `predicate` holds (checked with the lock held), or `timeout` passes: Python's
    /// `wait_for(predicate, timeout)`. The caller must hold the lock.
    ///
    /// - Returns: The last value of `predicate`.
    public func wait(for predicate: () throws -> Bool, timeout: Duration? = nil) throws -> Bool {
        let deadline = Deadline(timeout: timeout)
        while try !predicate() {
            if deadline.hasPassed { return false }
            let left = deadline.instant.map { ContinuousClock.now.duration(to: $0) }
            try wait(timeout: left)
        }
        return true
    }

    /// Wakes up to `count` waiters: Python's `notify(n)`. Call it holding the lock.
    public func notify(count: Int = 1) {
        atomic.wrappingIncrement(ordering: .releasing)
        system_futex_wake(sequence, count: Int32(clamping: count))
    }

    /// Wakes every waiter: Python's `notify_all()`. Call it holding the lock.
    public func notifyAll() {
        atomic.wrappingIncrement(ordering: .releasing)
        system_futex_wake(sequence, count: Int32.max)
    }
}

/// A condition crosses to another process inside any `Codable` value: its segment and its lock,
/// each as a descriptor.
extension ProcessCondition: Codable {
    private enum CodingKeys: String, CodingKey {
        case segment, lock
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(segment, forKey: .segment)
        try container.encode(lock, forKey: .lock)
    }

    public convenience init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            validating: try container.decode(SharedMemory.self, forKey: .segment),
            lock: try container.decode(ProcessLock.self, forKey: .lock)
        )
    }
}
