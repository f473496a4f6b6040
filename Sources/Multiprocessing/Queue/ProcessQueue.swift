/// A first-in, first-out queue between any number of producers and consumers, in any processes
/// and threads: Python's `multiprocessing.Queue` (and `SimpleQueue`).
///
/// ```swift
/// let queue = try ProcessQueue<Int>()
/// let reader = ChildProcess(running: DrainQueue(queue: queue))   // the queue crosses as descriptors
/// try reader.start()
/// for number in 0..<1_000_000 { try queue.put(number) }
/// queue.close()                                                  // the reader's get now ends
/// ```
///
/// Elements live in a ring in shared memory, guarded by a robust process-shared mutex; a sleeping
/// `get` or `put` waits on a shared futex, and nobody makes a system call while nobody sleeps.
/// `BitwiseCodable` elements (the integers, `Double`, your own plain structs) are copied as they
/// are; others go through ``BinaryEncoder``. An element larger than a quarter of the ring travels
/// in a segment of its own and does not stall the small ones.
///
/// What Python's queue gets wrong, this one does not:
/// - There is no feeder thread: `put(_:)` has stored the element when it returns, or it throws.
///   A process may exit, or be joined, while the queue holds its elements.
/// - A process killed inside `put` or `get` leaves the queue consistent (the next one to lock it
///   repairs the count), and the others carry on.
/// - `close()` is seen by every process: blocked getters wake and, once the queue is empty,
///   get ``QueueError/Code-swift.struct/closed`` instead of waiting forever.
/// - An element that does not decode is an error on the `get` that took it; the queue goes on.
public final class ProcessQueue<Element: Codable>: @unchecked Sendable {
    @usableFromInline let core: QueueCore
    /// The element's size when it is `BitwiseCodable` and copied as it is (looked up once: a
    /// dynamic cast per element would cost more than the copy).
    @usableFromInline let bitwiseSize: Int?

    /// A new, empty queue.
    ///
    /// - Parameters:
    ///   - capacity: The most elements it holds before `put` waits: Python's `maxsize`. `nil`: as
    ///     many as fit in the buffer.
    ///   - bufferByteCount: The size of the shared ring (at least 4096 bytes). Elements larger than
    ///     a quarter of it are passed in segments of their own.
    /// - Throws: ``SharedMemoryError`` `.invalidArgument` for a capacity below 1 or a tiny buffer,
    ///   `.systemCallFailed` when the memory or the socket cannot be made.
    public convenience init(capacity: Int? = nil, bufferByteCount: Int = 1 << 20) throws(SharedMemoryError) {
        try self.init(capacity: capacity, bufferByteCount: bufferByteCount, joinable: false)
    }

    init(capacity: Int?, bufferByteCount: Int, joinable: Bool) throws(SharedMemoryError) {
        core = try QueueCore(
            capacity: capacity,
            bufferByteCount: bufferByteCount,
            fingerprint: Self.fingerprint(joinable: joinable),
            joinable: joinable
        )
        bitwiseSize = Self.bitwiseSize
    }

    init(core: QueueCore) {
        self.core = core
        bitwiseSize = Self.bitwiseSize
    }

    /// Identifies the element type (and the kind of queue) in the segment, so that a process
    /// receiving the queue as another type is refused instead of misreading the bytes.
    static func fingerprint(joinable: Bool) -> UInt64 {
        let name = (_mangledTypeName(Element.self) ?? String(reflecting: Element.self)) + (joinable ? "/joinable" : "")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
        return hash
    }

    private static var bitwiseSize: Int? {
        Element.self is any BitwiseCodable.Type ? MemoryLayout<Element>.size : nil
    }

    // MARK: Putting

    /// Appends `element`, waiting while the queue is full: Python's `put(obj)`.
    ///
    /// - Throws: ``QueueError`` `.closed`; the codec's error when `element` cannot be encoded
    ///   (nothing is stored then).
    @inlinable
    public func put(_ element: Element) throws {
        _ = try put(element, until: .never)
    }

    /// Appends `element`, waiting at most `timeout` while the queue is full: Python's
    /// `put(obj, timeout=)`.
    ///
    /// - Returns: False when the queue stayed full (Python's `queue.Full`).
    @inlinable
    public func put(_ element: Element, timeout: Duration) throws -> Bool {
        try put(element, until: Deadline(timeout: timeout))
    }

    /// Appends `element` only if there is room now: Python's `put_nowait(obj)`.
    ///
    /// - Returns: False when the queue is full.
    @inlinable
    public func tryPut(_ element: Element) throws -> Bool {
        try put(element, until: Deadline(timeout: .zero))
    }

    /// Appends every element in order, taking the lock once per ringful rather than once per
    /// element: the fast way to send many small elements.
    @inlinable
    public func put(contentsOf elements: some Sequence<Element>) throws {
        guard let size = bitwiseSize else {
            for element in elements { try put(element) }  // encoded one by one, outside the lock
            return
        }
        var pending = elements.makeIterator()
        var next = pending.next()
        while next != nil {
            var stored = 0
            try core.lockPuts()
            while let element = next {
                guard try core.waitForRoom(size, until: .never, mayWait: stored == 0) else { break }
                core.append(length: size) { target in
                    withUnsafeBytes(of: element) { target.copyMemory(from: $0.baseAddress!, byteCount: size) }
                }
                stored += 1
                next = pending.next()
            }
            core.unlockPuts()
            core.notifyPut(stored)
        }
    }

    @inlinable
    func put(_ element: Element, until deadline: Deadline) throws -> Bool {
        guard let size = bitwiseSize else {
            return try core.put(encoded: try BinaryEncoder().encode(element), until: deadline)
        }
        try core.lockPuts()
        guard try core.waitForRoom(size, until: deadline, mayWait: true) else {
            core.unlockPuts()
            return false
        }
        core.append(length: size) { target in
            withUnsafeBytes(of: element) { target.copyMemory(from: $0.baseAddress!, byteCount: size) }
        }
        core.unlockPuts()
        core.notifyPut(1)
        return true
    }

    // MARK: Getting

    /// Removes and returns the first element, waiting while the queue is empty: Python's `get()`.
    ///
    /// - Throws: ``QueueError`` `.closed` once the queue is closed and empty; the codec's error for
    ///   an element that does not decode (it is consumed; the queue goes on).
    @inlinable
    public func get() throws -> Element {
        try get(until: .never)!
    }

    /// Removes and returns the first element, waiting at most `timeout`: Python's `get(timeout=)`.
    ///
    /// - Returns: `nil` when the queue stayed empty (Python's `queue.Empty`).
    @inlinable
    public func get(timeout: Duration) throws -> Element? {
        try get(until: Deadline(timeout: timeout))
    }

    /// Removes and returns the first element if there is one now: Python's `get_nowait()`.
    @inlinable
    public func tryGet() throws -> Element? {
        try get(until: Deadline(timeout: .zero))
    }

    /// Waits for at least one element, then removes and returns up to `maximumCount` of them,
    /// taking the lock once: the fast way to receive many small elements.
    ///
    /// - Throws: As `get()`. An element that does not decode ends the batch before it and is
    ///   thrown by the next call, so nothing decoded is lost.
    @inlinable
    public func get(maximumCount: Int) throws -> [Element] {
        precondition(maximumCount >= 1, "maximumCount must be at least 1")
        try core.lockGets()
        guard try core.waitForElement(until: .never) else { preconditionFailure("a wait without a deadline ended") }
        var elements: [Element] = []
        elements.reserveCapacity(min(maximumCount, max(core.count, 1)))
        var alone: QueueCore.Removed?
        while elements.count < maximumCount, core.hasElement {
            // Small elements are decoded under the lock, so one that fails can be left in place.
            let element = core.withFirstInline { payload -> Element? in
                if let size = bitwiseSize { return payload.count == size ? Self.load(payload) : nil }
                return try? BinaryDecoder().decode(Element.self, from: payload)
            }
            if let element {
                core.dropFirst()
                elements.append(element)
            } else {
                // A spilled or undecodable element is taken alone, as the batch's only member.
                if elements.isEmpty { alone = core.removeFirst() }
                break
            }
        }
        core.unlockGets()
        core.notifyGet(max(elements.count, 1))
        if let alone { return [try decode(alone)] }
        return elements
    }

    @inlinable
    func get(until deadline: Deadline) throws -> Element? {
        try core.lockGets()
        guard try core.waitForElement(until: deadline) else {
            core.unlockGets()
            return nil
        }
        if let size = bitwiseSize,
            let element = core.withFirstInline({ payload in payload.count == size ? Self.load(payload) : nil })
        {
            core.dropFirst()
            core.unlockGets()
            core.notifyGet(1)
            return element
        }
        let removed = core.removeFirst()
        core.unlockGets()
        core.notifyGet(1)
        return try decode(removed)
    }

    /// A bitwise element from its bytes.
    @inlinable
    static func load(_ payload: UnsafeRawBufferPointer) -> Element {
        withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { slot in
            UnsafeMutableRawPointer(slot.baseAddress!).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
            return slot.baseAddress!.move()
        }
    }

    /// Decodes a removed record, outside the ring lock.
    @inlinable
    func decode(_ removed: QueueCore.Removed) throws -> Element {
        let bytes = try core.bytes(of: removed)
        if let size = bitwiseSize, bytes.count == size { return bytes.withUnsafeBytes { Self.load($0) } }
        return try BinaryDecoder().decode(Element.self, from: bytes)
    }

    // MARK: State

    /// How many elements wait (approximate once returned, as Python's `qsize()`).
    public var count: Int { core.count }

    /// Whether no element waits: Python's `empty()`.
    public var isEmpty: Bool { count == 0 }

    /// Whether a `put` would wait for the capacity: Python's `full()`.
    public var isFull: Bool {
        let maximum = core.maximumCount
        return maximum > 0 && count >= maximum
    }

    /// Closes the queue for every process: puts throw ``QueueError/Code-swift.struct/closed``
    /// from now on, gets take what is left and then throw it, and everyone waiting wakes.
    public func close() { core.close() }

    /// Whether some process closed the queue.
    public var isClosed: Bool { core.isClosed }
}

/// Python's `SimpleQueue`: the same queue. Python's `Queue` needs its feeder thread and
/// `SimpleQueue` does without; ``ProcessQueue`` has no feeder thread to begin with.
public typealias SimpleProcessQueue<Element: Codable> = ProcessQueue<Element>

/// A queue crosses to another process inside any `Codable` value (a task, a message): its
/// segment, its spill socket's two ends and its two signals, as descriptors. The receiver checks
/// that the queue was made for the same element type.
extension ProcessQueue: Codable {
    private enum CodingKeys: String, CodingKey {
        case ring, spillWrite, spillRead, elementSignal, roomSignal
    }

    public func encode(to encoder: any Encoder) throws {
        let carrier = try DescriptorCarrier.forEncoding(encoder, sending: "a queue", value: self)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(core.ring.segment, forKey: .ring)
        try container.encode(try carrier.append(core.spill.writeEnd.rawValue), forKey: .spillWrite)
        try container.encode(try carrier.append(core.spill.readEnd.rawValue), forKey: .spillRead)
        try container.encode(try carrier.append(core.elementSignal.descriptor.rawValue), forKey: .elementSignal)
        try container.encode(try carrier.append(core.roomSignal.descriptor.rawValue), forKey: .roomSignal)
    }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(decodingFrom: decoder, joinable: false)
    }

    convenience init(decodingFrom decoder: any Decoder, joinable: Bool) throws {
        let carrier = try DescriptorCarrier.forDecoding(decoder, receiving: "a queue")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let segment = try container.decode(SharedMemory.self, forKey: .ring)
        func claim(_ key: CodingKeys) throws -> OwnedDescriptor {
            OwnedDescriptor(adopting: try carrier.claim(try container.decode(Int.self, forKey: key)))
        }
        self.init(
            core: QueueCore(
                ring: try QueueRing(validating: segment, fingerprint: Self.fingerprint(joinable: joinable)),
                spill: SpillChannel(writeEnd: try claim(.spillWrite), readEnd: try claim(.spillRead)),
                elementSignal: AsyncSignal(descriptor: try claim(.elementSignal)),
                roomSignal: AsyncSignal(descriptor: try claim(.roomSignal)),
                joinable: joinable
            )
        )
    }
}
