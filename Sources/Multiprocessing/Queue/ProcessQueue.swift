import Atomics

/// A first-in, first-out queue between any number of producers and consumers, in any processes
/// and threads: Python's `multiprocessing.Queue` (and `SimpleQueue`).
///
/// ```swift
/// let queue = try ProcessQueue<Int>()
/// let reader = ChildProcess(running: DrainQueue(queue: queue))   // the queue crosses as descriptors
/// try reader.start()
/// for number in 0..<1_000_000 { try queue.put(number) }
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
/// - ``close()`` is seen by every process: blocked getters wake and, once the queue is empty,
///   get ``QueueError/Code-swift.struct/closed`` instead of waiting forever.
/// - An element that does not decode is an error on the `get` that took it; the queue goes on.
public final class ProcessQueue<Element: Codable>: @unchecked Sendable {
    let ring: QueueRing
    let spill: SpillChannel
    /// Tokens for tasks awaiting an element, and for tasks awaiting room.
    let elementSignal: AsyncSignal
    let roomSignal: AsyncSignal
    let isJoinable: Bool
    /// The element's size when it is `BitwiseCodable` and copied as it is (looked up once: a
    /// dynamic cast per element would cost more than the copy).
    let bitwiseSize: Int?

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
        if let capacity, capacity < 1 {
            throw SharedMemoryError(.invalidArgument, "a queue's capacity must be at least 1, not \(capacity)")
        }
        ring = try QueueRing(
            capacity: bufferByteCount,
            maximumCount: capacity ?? 0,
            fingerprint: Self.fingerprint(joinable: joinable)
        )
        spill = try SpillChannel()
        elementSignal = try AsyncSignal()
        roomSignal = try AsyncSignal()
        isJoinable = joinable
        bitwiseSize = Self.bitwiseSize
    }

    init(ring: QueueRing, spill: SpillChannel, elementSignal: AsyncSignal, roomSignal: AsyncSignal, joinable: Bool) {
        self.ring = ring
        self.spill = spill
        self.elementSignal = elementSignal
        self.roomSignal = roomSignal
        isJoinable = joinable
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

    static var bitwiseSize: Int? {
        Element.self is any BitwiseCodable.Type ? MemoryLayout<Element>.size : nil
    }

    // MARK: Putting

    /// Appends `element`, waiting while the queue is full: Python's `put(obj)`.
    ///
    /// - Throws: ``QueueError`` `.closed`; the codec's error when `element` cannot be encoded
    ///   (nothing is stored then).
    public func put(_ element: Element) throws {
        _ = try put(element, until: .never)
    }

    /// Appends `element`, waiting at most `timeout` while the queue is full: Python's
    /// `put(obj, timeout=)`.
    ///
    /// - Returns: False when the queue stayed full (Python's `queue.Full`).
    public func put(_ element: Element, timeout: Duration) throws -> Bool {
        try put(element, until: Deadline(timeout: timeout))
    }

    /// Appends `element` only if there is room now: Python's `put_nowait(obj)`.
    ///
    /// - Returns: False when the queue is full.
    public func tryPut(_ element: Element) throws -> Bool {
        try put(element, until: Deadline(timeout: .zero))
    }

    /// Appends every element in order, taking the lock once per ringful rather than once per
    /// element: the fast way to send many small elements.
    public func put(contentsOf elements: some Sequence<Element>) throws {
        var pending = elements.makeIterator()
        var next = pending.next()
        while next != nil {
            var stored = 0
            try ring.lock()
            while let element = next {
                if let size = bitwiseSize {
                    guard try waitForRoom(size, until: .never, waitIf: stored == 0) else { break }
                    ring.append(kind: .inline, length: size) { target in
                        withUnsafeBytes(of: element) { target.copyMemory(from: $0.baseAddress!, byteCount: size) }
                    }
                } else {
                    let bytes = try encode(element)
                    guard bytes.count <= ring.largestPayload else {
                        // A large one goes alone, through the spill path.
                        ring.unlock()
                        notifyPut(stored)
                        stored = 0
                        _ = try putSpilled(bytes, until: .never)
                        try ring.lock()
                        next = pending.next()
                        continue
                    }
                    guard try waitForRoom(bytes.count, until: .never, waitIf: stored == 0) else { break }
                    ring.append(kind: .inline, length: bytes.count) { target in
                        bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                    }
                }
                countUnfinished()
                stored += 1
                next = pending.next()
            }
            ring.unlock()
            notifyPut(stored)
        }
    }

    private func put(_ element: Element, until deadline: Deadline) throws -> Bool {
        if let size = bitwiseSize {
            return try putRecord(length: size, until: deadline) { target in
                withUnsafeBytes(of: element) { target.copyMemory(from: $0.baseAddress!, byteCount: size) }
            }
        }
        let bytes = try encode(element)
        if bytes.count > ring.largestPayload { return try putSpilled(bytes, until: deadline) }
        return try putRecord(length: bytes.count, until: deadline) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
    }

    func encode(_ element: Element) throws -> [UInt8] {
        try BinaryEncoder().encode(element)
    }

    private func putRecord(
        length: Int,
        until deadline: Deadline,
        write: (UnsafeMutableRawPointer) -> Void
    ) throws -> Bool {
        try ring.lock()
        guard try waitForRoom(length, until: deadline, waitIf: true) else {
            ring.unlock()
            return false
        }
        ring.append(kind: .inline, length: length, write: write)
        countUnfinished()
        ring.unlock()
        notifyPut(1)
        return true
    }

    /// With the ring locked: waits (if `waitIf`) until a record of `length` fits. False when the
    /// deadline passed first, or when it does not fit and must not wait.
    func waitForRoom(_ length: Int, until deadline: Deadline, waitIf mayWait: Bool) throws -> Bool {
        while true {
            if ring.isClosed {
                ring.unlock()
                throw QueueError(.closed, "put on a closed queue")
            }
            if ring.hasRoom(for: length) { return true }
            if !mayWait || deadline.hasPassed { return false }
            _ = try ring.waitForGet(until: deadline)
        }
    }

    /// An element too large for the ring: its own segment, its descriptor through the spill
    /// socket and a `spilled` record in the ring, both under the ring lock so they stay in order.
    func putSpilled(_ bytes: [UInt8], until deadline: Deadline) throws -> Bool {
        let segment = try SpillChannel.segment(holding: bytes)
        _ = try ring.spillWriteMutex.lock()
        defer { ring.spillWriteMutex.unlock() }
        try ring.lock()
        while true {
            guard try waitForRoom(0, until: deadline, waitIf: true) else {
                ring.unlock()
                return false
            }
            if try spill.trySend(segment, length: bytes.count) { break }
            // The socket is full of large elements nobody took yet: wait for a get, as for room.
            if deadline.hasPassed {
                ring.unlock()
                return false
            }
            _ = try ring.waitForGet(until: deadline)
        }
        ring.append(kind: .spilled, length: 0) { _ in }
        countUnfinished()
        ring.unlock()
        notifyPut(1)
        return true
    }

    /// After `count` puts, with the lock released: wakes sleeping getters and awaiting tasks.
    func notifyPut(_ count: Int) {
        guard count > 0 else { return }
        ring.wakeGetters(count)
        if ring.awaitingGetters.load(ordering: .acquiring) > 0 { elementSignal.signal(count) }
    }

    /// After `count` gets, with the lock released: wakes sleeping putters and awaiting tasks.
    func notifyGet(_ count: Int) {
        guard count > 0 else { return }
        ring.wakePutters(count)
        if ring.awaitingPutters.load(ordering: .acquiring) > 0 { roomSignal.signal(count) }
    }

    func countUnfinished() {
        if isJoinable { sharedAtomic(ring.unfinished).wrappingIncrement(ordering: .releasing) }
    }

    // MARK: Getting

    /// Removes and returns the first element, waiting while the queue is empty: Python's `get()`.
    ///
    /// - Throws: ``QueueError`` `.closed` once the queue is closed and empty; the codec's error for
    ///   an element that does not decode (it is consumed; the queue goes on).
    public func get() throws -> Element {
        try get(until: .never)!
    }

    /// Removes and returns the first element, waiting at most `timeout`: Python's `get(timeout=)`.
    ///
    /// - Returns: `nil` when the queue stayed empty (Python's `queue.Empty`).
    public func get(timeout: Duration) throws -> Element? {
        try get(until: Deadline(timeout: timeout))
    }

    /// Removes and returns the first element if there is one now: Python's `get_nowait()`.
    public func tryGet() throws -> Element? {
        try get(until: Deadline(timeout: .zero))
    }

    /// Waits for at least one element, then removes and returns up to `maximumCount` of them,
    /// taking the lock once: the fast way to receive many small elements.
    ///
    /// - Throws: As `get()`. An element that does not decode ends the batch before it and is
    ///   thrown by the next call, so nothing decoded is lost.
    public func get(maximumCount: Int) throws -> [Element] {
        precondition(maximumCount >= 1, "maximumCount must be at least 1")
        try ring.lock()
        guard try waitForElement(until: .never) else { preconditionFailure("a wait without a deadline ended") }
        var elements: [Element] = []
        var alone: Taken?
        while elements.count < maximumCount, ring.count > 0 {
            let peeked = ring.withFirst { kind, payload in peek(kind, payload) }
            if case .value(let element) = peeked {
                ring.dropFirst()
                elements.append(element)
            } else {
                // A spilled or undecodable element is taken alone, as the batch's only member.
                if elements.isEmpty {
                    alone = peeked
                    ring.dropFirst()
                }
                break
            }
        }
        ring.unlock()
        notifyGet(max(elements.count, 1))
        if let alone { return [try finish(alone)] }
        return elements
    }

    /// What the first record holds, decoded if it is small (under the lock, for batches).
    private func peek(_ kind: QueueRing.RecordKind, _ payload: UnsafeRawBufferPointer) -> Taken {
        switch read(kind, payload) {
        case .encoded(let bytes):
            do { return .value(try BinaryDecoder().decode(Element.self, from: bytes)) } catch { return .failed(error) }
        case let other:
            return other
        }
    }

    private func get(until deadline: Deadline) throws -> Element? {
        try ring.lock()
        guard try waitForElement(until: deadline) else {
            ring.unlock()
            return nil
        }
        let taken = takeFirst()
        ring.unlock()
        notifyGet(1)
        return try finish(taken)
    }

    /// With the ring locked: waits until it holds an element. False when the deadline passed.
    private func waitForElement(until deadline: Deadline) throws -> Bool {
        while ring.count == 0 {
            if ring.isClosed {
                ring.unlock()
                throw QueueError(.closed, "get on a closed, empty queue")
            }
            if deadline.hasPassed { return false }
            _ = try ring.waitForPut(until: deadline)
        }
        return true
    }

    enum Taken {
        case value(Element)
        case encoded([UInt8])
        case spilled
        case failed(any Error)
    }

    func takeFirst() -> Taken {
        let taken = ring.withFirst(read)
        ring.dropFirst()
        return taken
    }

    func read(_ kind: QueueRing.RecordKind, _ payload: UnsafeRawBufferPointer) -> Taken {
        switch kind {
        case .spilled, .padding:
            return .spilled
        case .inline:
            if let size = bitwiseSize, payload.count == size {
                return .value(
                    withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { slot in
                        UnsafeMutableRawPointer(slot.baseAddress!).copyMemory(
                            from: payload.baseAddress!,
                            byteCount: size
                        )
                        return slot.baseAddress!.move()
                    }
                )
            }
            return .encoded([UInt8](payload))
        }
    }

    /// Decodes what was taken, outside the ring lock.
    func finish(_ taken: Taken) throws -> Element {
        switch taken {
        case .value(let element):
            return element
        case .failed(let error):
            throw error
        case .encoded(let bytes):
            return try BinaryDecoder().decode(Element.self, from: bytes)
        case .spilled:
            _ = try ring.spillReadMutex.lock()
            let bytes: [UInt8]
            do {
                bytes = try spill.receive()
            } catch {
                ring.spillReadMutex.unlock()
                throw error
            }
            ring.spillReadMutex.unlock()
            return try BinaryDecoder().decode(Element.self, from: bytes)
        }
    }

    // MARK: State

    /// How many elements wait (approximate once returned, as Python's `qsize()`).
    public var count: Int {
        guard (try? ring.lock()) != nil else { return 0 }
        defer { ring.unlock() }
        return ring.count
    }

    /// Whether no element waits: Python's `empty()`.
    public var isEmpty: Bool { count == 0 }

    /// Whether a `put` would wait for the capacity: Python's `full()`.
    public var isFull: Bool {
        let maximum = ring.maximumCount
        return maximum > 0 && count >= maximum
    }

    /// Closes the queue for every process: puts throw ``QueueError/Code-swift.struct/closed``
    /// from now on, gets take what is left and then throw it, and everyone waiting wakes.
    public func close() {
        ring.close()
        elementSignal.signal(Int(UInt32.max))
        roomSignal.signal(Int(UInt32.max))
    }

    /// Whether some process closed the queue.
    public var isClosed: Bool { ring.isClosed }
}

/// Python's `SimpleQueue`: the same queue. Python's `Queue` needs its feeder thread and
/// `SimpleQueue` does without; ``ProcessQueue`` has no feeder thread to begin with.
public typealias SimpleProcessQueue<Element: Codable> = ProcessQueue<Element>

/// A queue crosses to another process inside any `Codable` value (a task, a message): its
/// segment and its spill socket's two ends, as descriptors. The receiver checks that the queue
/// was made for the same element type.
extension ProcessQueue: Codable {
    private enum CodingKeys: String, CodingKey {
        case ring, spillWrite, spillRead, elementSignal, roomSignal
    }

    public func encode(to encoder: any Encoder) throws {
        let carrier = try DescriptorCarrier.forEncoding(encoder, sending: "a queue", value: self)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ring.segment, forKey: .ring)
        try container.encode(try carrier.append(spill.writeEnd.rawValue), forKey: .spillWrite)
        try container.encode(try carrier.append(spill.readEnd.rawValue), forKey: .spillRead)
        try container.encode(try carrier.append(elementSignal.descriptor.rawValue), forKey: .elementSignal)
        try container.encode(try carrier.append(roomSignal.descriptor.rawValue), forKey: .roomSignal)
    }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(decodingFrom: decoder, joinable: false)
    }

    convenience init(decodingFrom decoder: any Decoder, joinable: Bool) throws {
        let carrier = try DescriptorCarrier.forDecoding(decoder, receiving: "a queue")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let segment = try container.decode(SharedMemory.self, forKey: .ring)
        let writeEnd = OwnedDescriptor(adopting: try carrier.claim(try container.decode(Int.self, forKey: .spillWrite)))
        let readEnd = OwnedDescriptor(adopting: try carrier.claim(try container.decode(Int.self, forKey: .spillRead)))
        let elementSignal = OwnedDescriptor(
            adopting: try carrier.claim(try container.decode(Int.self, forKey: .elementSignal))
        )
        let roomSignal = OwnedDescriptor(
            adopting: try carrier.claim(try container.decode(Int.self, forKey: .roomSignal))
        )
        self.init(
            ring: try QueueRing(validating: segment, fingerprint: Self.fingerprint(joinable: joinable)),
            spill: SpillChannel(writeEnd: writeEnd, readEnd: readEnd),
            elementSignal: AsyncSignal(descriptor: elementSignal),
            roomSignal: AsyncSignal(descriptor: roomSignal),
            joinable: joinable
        )
    }
}
