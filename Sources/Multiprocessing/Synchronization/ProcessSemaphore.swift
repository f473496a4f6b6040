import Atomics

/// A counter of permits that processes and threads take and give back: Python's
/// `multiprocessing.Semaphore`, and with a `maximum`, its `BoundedSemaphore`.
///
/// ```swift
/// let slots = try ProcessSemaphore(value: 2)     // at most two holders at once
/// slots.acquire()
/// defer { try? slots.release() }
/// ```
///
/// One 32-bit counter in shared memory, taken with compare-and-swap and waited on with a shared
/// futex: no system call while permits are free. A process that dies holding a permit does not give
/// it back (as in Python).
public final class ProcessSemaphore: @unchecked Sendable {
    let segment: SharedMemory
    private let counter: UnsafeMutablePointer<UInt32>
    /// The bound, or `UInt32.max` for none.
    private let bound: UInt32

    /// A semaphore holding `value` permits; with `maximum`, ``release()`` refuses to go above it.
    ///
    /// - Throws: ``SharedMemoryError`` `.invalidArgument` for a negative value, a value above the
    ///   maximum, or more than 2³² − 2 permits; `.systemCallFailed`.
    public init(value: Int = 1, maximum: Int? = nil) throws(SharedMemoryError) {
        let limit = maximum ?? Int(UInt32.max - 1)
        guard value >= 0, value <= limit, limit <= Int(UInt32.max - 1) else {
            throw SharedMemoryError(.invalidArgument, "a semaphore of \(value) permits, at most \(limit)")
        }
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + 8)
        try SegmentHeader.initialize(segment, kind: .semaphore, payloadByteCount: 8, stride: 8)
        counter = segment.payload(as: UInt32.self, capacity: 2)
        counter.initialize(to: UInt32(value))
        bound = maximum.map { UInt32($0) } ?? UInt32.max
        (counter + 1).initialize(to: bound)
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        guard try SegmentHeader.validate(segment, kind: .semaphore, stride: 8) == 8 else {
            throw SharedMemoryError(.sizeMismatch, "a semaphore segment holds two 4-byte words")
        }
        self.segment = segment
        counter = segment.payload(as: UInt32.self, capacity: 2)
        bound = (counter + 1).pointee
    }

    private var atomic: UnsafeAtomic<UInt32> {
        sharedAtomic(counter)
    }

    /// The permits free now (Python's `get_value()`); another process may change it at once.
    public var value: Int { Int(atomic.load(ordering: .relaxed)) }

    /// Takes a permit, waiting as long as it takes: Python's `acquire()`.
    public func acquire() { _ = acquire(until: .never) }

    /// Takes a permit, waiting at most `timeout`: Python's `acquire(timeout=)`.
    ///
    /// - Returns: Whether a permit was taken.
    public func acquire(timeout: Duration) -> Bool { acquire(until: Deadline(timeout: timeout)) }

    /// Takes a permit only if one is free now: Python's `acquire(block=False)`.
    public func tryAcquire() -> Bool { acquire(until: Deadline(timeout: .zero)) }

    /// Gives a permit back and wakes one waiter: Python's `release()`.
    ///
    /// - Throws: ``SharedMemoryError/Code-swift.struct/invalidArgument`` when a bounded semaphore
    ///   would go above its maximum (Python's `ValueError`); nothing changes then.
    public func release() throws(SharedMemoryError) {
        var current = atomic.load(ordering: .relaxed)
        while true {
            guard current < bound else {
                throw SharedMemoryError(.invalidArgument, "released more often than acquired (maximum \(bound))")
            }
            let (exchanged, original) = atomic.weakCompareExchange(
                expected: current,
                desired: current + 1,
                ordering: .releasing
            )
            if exchanged { break }
            current = original
        }
        system_futex_wake(counter, count: 1)
    }

    private func acquire(until deadline: Deadline) -> Bool {
        while true {
            if takeIfFree() { return true }
            // Sleeps only while no permit is free; a release in between changes the word first.
            if !system_futex_wait(counter, expected: 0, until: deadline) { return takeIfFree() }
        }
    }

    /// Takes a permit if one is free now, without waiting (a compare-and-swap loop).
    private func takeIfFree() -> Bool {
        var current = atomic.load(ordering: .relaxed)
        while current > 0 {
            let (exchanged, original) = atomic.weakCompareExchange(
                expected: current,
                desired: current - 1,
                ordering: .acquiring
            )
            if exchanged { return true }
            current = original
        }
        return false
    }
}

/// A semaphore crosses to another process inside any `Codable` value as its segment's descriptor.
extension ProcessSemaphore: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
