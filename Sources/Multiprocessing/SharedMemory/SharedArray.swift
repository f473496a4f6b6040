#if canImport(Glibc)
import Glibc
#endif

/// A fixed-size array that several processes share: Python's `multiprocessing.Array('i', 4)`.
///
/// ```swift
/// let squares = try SharedArray(repeating: 0, count: 4)     // Array('i', 4)
/// squares[2] = 9                                             // no lock, a plain store
/// try squares.withLock { elements in elements[0] += 1 }      // with squares.get_lock(): …
/// let copy = squares.toArray()                               // one memcpy
/// ```
///
/// It lives in shared memory with its own lock. Handed to a spawned child inside its task, it
/// crosses as a descriptor, never as a copy: a 256 MiB array reaches a child task as fast as a
/// 4-element one, where Python's `Pool` pickles it. That makes it the way to give large inputs to
/// tasks. `Element` must hold no pointers or references: numbers, `Bool`, structs and tuples of them.
///
/// Subscripts read and write without the lock (as plain loads and stores; elements wider than a
/// machine word can tear under concurrent writes). Use ``withLock(_:)`` for anything that must be
/// atomic as a whole, or a ``SharedValue`` for a counter.
public final class SharedArray<Element: BitwiseCopyable>: @unchecked Sendable {
    let segment: SharedMemory
    private let mutex: RobustMutex
    private let elements: UnsafeMutableBufferPointer<Element>

    /// A shared array of `count` copies of `element`.
    ///
    /// - Throws: ``SharedMemoryError`` `.invalidArgument` for a negative count, `.systemCallFailed`.
    public convenience init(repeating element: Element, count: Int) throws(SharedMemoryError) {
        try self.init(uninitializedCount: count)
        elements.initialize(repeating: element)
    }

    /// A shared array holding a copy of `source` (one memcpy when it is contiguous).
    public convenience init(_ source: some Collection<Element>) throws(SharedMemoryError) {
        try self.init(uninitializedCount: source.count)
        let copied: Bool? = source.withContiguousStorageIfAvailable { buffer in
            UnsafeMutableRawBufferPointer(elements).copyMemory(from: UnsafeRawBufferPointer(buffer))
            return true
        }
        if copied == nil { _ = elements.initialize(from: source) }
    }

    private init(uninitializedCount count: Int) throws(SharedMemoryError) {
        guard count >= 0 else { throw SharedMemoryError(.invalidArgument, "a count of \(count) elements") }
        precondition(MemoryLayout<Element>.alignment <= SegmentHeader.payloadAlignment)
        let stride = MemoryLayout<Element>.stride
        let (payload, overflow) = stride.multipliedReportingOverflow(by: count)
        guard !overflow, payload <= Int.max - SegmentHeader.payloadOffset - 1 else {
            throw SharedMemoryError(.invalidArgument, "\(count) elements of \(stride) bytes do not fit in memory")
        }
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + max(payload, 1))
        try SegmentHeader.initialize(segment, kind: .array, payloadByteCount: payload, stride: stride)
        mutex = RobustMutex(at: segment.mutexAddress)
        elements = UnsafeMutableBufferPointer(
            start: segment.payload(as: Element.self, capacity: count),
            count: count
        )
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        let stride = MemoryLayout<Element>.stride
        let payload = try SegmentHeader.validate(segment, kind: .array, stride: stride)
        guard stride == 0 || payload % stride == 0 else {
            throw SharedMemoryError(.sizeMismatch, "\(payload) bytes are not whole \(Element.self) elements")
        }
        let count = stride == 0 ? 0 : payload / stride
        self.segment = segment
        mutex = RobustMutex(at: segment.mutexAddress)
        elements = UnsafeMutableBufferPointer(
            start: segment.payload(as: Element.self, capacity: count),
            count: count
        )
    }

    /// The number of elements (fixed).
    public var count: Int { elements.count }

    /// The element at `index`, read or written without the lock.
    public subscript(index: Int) -> Element {
        get {
            precondition(elements.indices.contains(index), "index \(index) out of range 0..<\(count)")
            return elements[index]
        }
        set {
            precondition(elements.indices.contains(index), "index \(index) out of range 0..<\(count)")
            elements[index] = newValue
        }
    }

    /// A copy of every element, made with one memcpy.
    public func toArray() -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { target, initialized in
            if count > 0 {
                UnsafeMutableRawBufferPointer(target).copyMemory(from: UnsafeRawBufferPointer(elements))
            }
            initialized = count
        }
    }

    /// Runs `body` on the elements while holding the array's lock: Python's `with array.get_lock():`.
    public func withLock<Result>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> Result) throws -> Result {
        _ = try mutex.lock()
        defer { mutex.unlock() }
        return try body(elements)
    }

    /// Runs `body` on the elements without the lock: bulk reads and writes at memory speed.
    public func withUnsafeMutableBufferPointer<Result>(
        _ body: (UnsafeMutableBufferPointer<Element>) throws -> Result
    ) rethrows -> Result {
        try body(elements)
    }

    /// Acquires the array's lock and reports whether a holder died with it. Release with ``unlock()``.
    @discardableResult
    public func lock() throws(SharedMemoryError) -> LockAcquisition { try mutex.lock() }

    /// Releases the array's lock taken with ``lock()``.
    public func unlock() { mutex.unlock() }
}

/// A shared array crosses to another process inside any `Codable` value as its segment's
/// descriptor: the elements are not copied.
extension SharedArray: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
