import Atomics

/// A flag that processes and threads wait for: Python's `multiprocessing.Event`.
///
/// ```swift
/// let ready = try ProcessEvent()
/// // in a child: ready.set()
/// ready.wait()                                   // or ready.wait(timeout: .seconds(1))
/// ```
///
/// One 32-bit word in shared memory, waited on with a shared futex: `set()` costs one store and one
/// wake-up call, a `wait()` on a set event no system call at all. Crosses to a child inside its task
/// as its segment's descriptor; a forked child inherits it.
public final class ProcessEvent: @unchecked Sendable {
    let segment: SharedMemory
    private let word: UnsafeMutablePointer<UInt32>

    /// A new event, not set.
    ///
    /// - Throws: ``SharedMemoryError`` `.systemCallFailed` (`EMFILE`, `ENOMEM`).
    public init() throws(SharedMemoryError) {
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + 4)
        try SegmentHeader.initialize(segment, kind: .event, payloadByteCount: 4, stride: 4)
        word = segment.payload(as: UInt32.self, capacity: 1)
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        guard try SegmentHeader.validate(segment, kind: .event, stride: 4) == 4 else {
            throw SharedMemoryError(.sizeMismatch, "an event segment holds one 4-byte word")
        }
        self.segment = segment
        word = segment.payload(as: UInt32.self, capacity: 1)
    }

    private var atomic: UnsafeAtomic<UInt32> {
        sharedAtomic(word)
    }

    /// Whether the event is set: Python's `is_set()`.
    public var isSet: Bool { atomic.load(ordering: .acquiring) != 0 }

    /// Sets the event and wakes every waiter, in every process: Python's `set()`.
    public func set() {
        atomic.store(1, ordering: .releasing)
        system_futex_wake(word, count: Int32.max)
    }

    /// Clears the event: later waits block until the next ``set()``. Python's `clear()`.
    public func clear() { atomic.store(0, ordering: .releasing) }

    /// Blocks until the event is set, or `timeout` passes: Python's `wait(timeout)`.
    ///
    /// - Returns: Whether the event is set (false only when `timeout` passed first).
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        let deadline = Deadline(timeout: timeout)
        while atomic.load(ordering: .acquiring) == 0 {
            if !system_futex_wait(word, expected: 0, until: deadline) { return isSet }
        }
        return true
    }
}

/// An event crosses to another process inside any `Codable` value as its segment's descriptor.
extension ProcessEvent: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
