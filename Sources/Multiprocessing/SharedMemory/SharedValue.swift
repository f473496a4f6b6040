public import Atomics

/// One value that several processes share: Python's `multiprocessing.Value('i')`.
///
/// ```swift
/// let total = try SharedValue(0)                       // Value('i', 0)
/// try total.withLock { $0 += 1 }                       // with total.get_lock(): total.value += 1
/// total.wrappingAdd(1)                                 // one atomic instruction, no lock
/// ```
///
/// It lives in shared memory with its own lock (a ``ProcessLock``-like robust mutex): hand it to a
/// spawned child inside its task (it crosses as a descriptor) or use it in a forked child. `Value`
/// must hold no pointers or references (each process maps the memory elsewhere and has its own heap):
/// numbers, `Bool`, and structs and tuples of them.
public final class SharedValue<Value: BitwiseCopyable>: @unchecked Sendable {
    let segment: SharedMemory
    @usableFromInline let mutex: RobustMutex
    @usableFromInline let pointer: UnsafeMutablePointer<Value>

    /// A shared value starting at `initial`.
    ///
    /// - Throws: ``SharedMemoryError`` `.systemCallFailed` (`EMFILE`, `ENOMEM`).
    public init(_ initial: Value) throws(SharedMemoryError) {
        precondition(MemoryLayout<Value>.alignment <= SegmentHeader.payloadAlignment)
        let stride = MemoryLayout<Value>.stride
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + max(stride, 1))
        try SegmentHeader.initialize(segment, kind: .value, payloadByteCount: stride, stride: stride)
        mutex = RobustMutex(at: segment.mutexAddress)
        pointer = segment.payload(as: Value.self, capacity: 1)
        pointer.initialize(to: initial)
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        let stride = MemoryLayout<Value>.stride
        let payload = try SegmentHeader.validate(segment, kind: .value, stride: stride)
        guard payload == stride else {
            throw SharedMemoryError(.sizeMismatch, "the segment holds \(payload) bytes, not one \(Value.self)")
        }
        self.segment = segment
        mutex = RobustMutex(at: segment.mutexAddress)
        pointer = segment.payload(as: Value.self, capacity: 1)
    }

    /// The value, read or written under the value's lock: Python's `Value.value`.
    ///
    /// A read-modify-write such as `shared.value += 1` takes the lock twice and is not atomic; use
    /// ``withLock(_:)`` or, for integers, ``wrappingAdd(_:)``.
    public var value: Value {
        get { locked { $0 } }
        set { locked { $0 = newValue } }
    }

    /// Runs `body` on the value while holding its lock: Python's `with value.get_lock():`.
    ///
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; ``SharedMemoryError/Code-swift.struct/notRecoverable`` only
    ///   if another library left the lock unrecovered.
    @inlinable  // specialized and inlined into the caller: the lock is held for less time
    public func withLock<Result>(_ body: (inout Value) throws -> Result) throws -> Result {
        _ = try mutex.lock()
        defer { mutex.unlock() }
        return try body(&pointer.pointee)
    }

    /// Acquires the value's lock and reports whether a holder died with it: Python's `get_lock()`
    /// for callers who must check the value after a crash. Release it with ``unlock()``.
    @discardableResult
    public func lock() throws(SharedMemoryError) -> LockAcquisition { try mutex.lock() }

    /// Releases the value's lock taken with ``lock()``.
    public func unlock() { mutex.unlock() }

    /// Reads without the lock: Python's `Value(lock=False).value`. Fine for a value only this
    /// process writes, or a word-sized one read once; torn reads are possible for larger values.
    public func loadWithoutLock() -> Value { pointer.pointee }

    /// Writes without the lock. See ``loadWithoutLock()``.
    public func storeWithoutLock(_ value: Value) { pointer.pointee = value }

    private func locked<Result>(_ body: (inout Value) -> Result) -> Result {
        do {
            return try withLock(body)
        } catch {
            preconditionFailure("the lock of a SharedValue failed: \(error)")
        }
    }
}

extension SharedValue where Value: AtomicInteger {
    /// Adds `operand` atomically (one instruction, no lock) and returns the new value. Other
    /// processes see each addition exactly once.
    @discardableResult
    public func wrappingAdd(_ operand: Value) -> Value {
        atomic.wrappingIncrementThenLoad(by: operand, ordering: .sequentiallyConsistent)
    }

    /// Reads the value atomically, without the lock.
    public func atomicLoad() -> Value { atomic.load(ordering: .sequentiallyConsistent) }

    /// Writes the value atomically, without the lock.
    public func atomicStore(_ value: Value) { atomic.store(value, ordering: .sequentiallyConsistent) }

    /// Replaces the value with `desired` if it is `expected`; returns whether it did.
    @discardableResult
    public func compareExchange(expected: Value, desired: Value) -> Bool {
        atomic.compareExchange(expected: expected, desired: desired, ordering: .sequentiallyConsistent).exchanged
    }

    private var atomic: UnsafeAtomic<Value> {
        sharedAtomic(pointer)
    }
}

/// A shared value crosses to another process inside any `Codable` value as its segment's descriptor.
extension SharedValue: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
