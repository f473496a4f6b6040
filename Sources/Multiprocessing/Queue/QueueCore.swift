import Atomics

/// Everything a ``ProcessQueue`` does that does not depend on its element type: the ring, the
/// spill socket, the async signals, and the locking, waiting and waking around them. The typed
/// layer on top is `@inlinable`, so a client's `ProcessQueue<Int>` is specialized where it is
/// used and reaches these calls without generic metadata (measured: unspecialized, metadata
/// lookups were the largest cost of a put).
@usableFromInline
final class QueueCore: @unchecked Sendable {
    let ring: QueueRing
    let spill: SpillChannel
    /// Tokens for tasks awaiting an element, and for tasks awaiting room.
    let elementSignal: AsyncSignal
    let roomSignal: AsyncSignal
    let isJoinable: Bool

    init(capacity: Int?, bufferByteCount: Int, fingerprint: UInt64, joinable: Bool) throws(SharedMemoryError) {
        if let capacity, capacity < 1 {
            throw SharedMemoryError(.invalidArgument, "a queue's capacity must be at least 1, not \(capacity)")
        }
        ring = try QueueRing(capacity: bufferByteCount, maximumCount: capacity ?? 0, fingerprint: fingerprint)
        spill = try SpillChannel()
        elementSignal = try AsyncSignal()
        roomSignal = try AsyncSignal()
        isJoinable = joinable
    }

    init(ring: QueueRing, spill: SpillChannel, elementSignal: AsyncSignal, roomSignal: AsyncSignal, joinable: Bool) {
        self.ring = ring
        self.spill = spill
        self.elementSignal = elementSignal
        self.roomSignal = roomSignal
        isJoinable = joinable
    }

    // MARK: Locking and waiting

    @usableFromInline
    func lockPuts() throws(SharedMemoryError) { try ring.lockProducers() }

    @usableFromInline
    func unlockPuts() { ring.unlockProducers() }

    @usableFromInline
    func lockGets() throws(SharedMemoryError) { try ring.lockConsumers() }

    @usableFromInline
    func unlockGets() { ring.unlockConsumers() }

    /// With the producers' lock held: waits (if `mayWait`) until a record of `length` fits. False
    /// when the deadline passed first, or when it does not fit and must not wait. Throws `.closed`
    /// (the lock released).
    @usableFromInline
    func waitForRoom(_ length: Int, until deadline: Deadline, mayWait: Bool) throws -> Bool {
        while true {
            if ring.isClosed {
                ring.unlockProducers()
                throw QueueError(.closed, "put on a closed queue")
            }
            if ring.hasRoom(for: length) { return true }
            if !mayWait || deadline.hasPassed { return false }
            if ring.spinUntilRoom(for: length, rounds: 2000) { return true }
            try ring.waitForGet(until: deadline) { !ring.hasRoom(for: length) }
        }
    }

    /// With the consumers' lock held: waits until the ring holds an element. False when the
    /// deadline passed. Throws `.closed` (the lock released) once the queue is closed and empty.
    @usableFromInline
    func waitForElement(until deadline: Deadline) throws -> Bool {
        while !ring.hasRecord {
            if ring.isClosed {
                ring.unlockConsumers()
                throw QueueError(.closed, "get on a closed, empty queue")
            }
            if deadline.hasPassed { return false }
            if ring.spinUntilRecord(rounds: 2000) { return true }
            try ring.waitForPut(until: deadline)
        }
        return true
    }

    /// Whether an element waits; the consumers' lock held.
    @usableFromInline
    var hasElement: Bool { ring.hasRecord }

    // MARK: Putting (the lock held)

    @usableFromInline
    func append(length: Int, write: (UnsafeMutableRawPointer) -> Void) {
        ring.append(kind: .inline, length: length, write: write)
        if isJoinable { sharedAtomic(ring.unfinished).wrappingIncrement(ordering: .releasing) }
    }

    /// After `count` puts, the lock released: wakes sleeping getters and awaiting tasks.
    @usableFromInline
    func notifyPut(_ count: Int) {
        guard count > 0 else { return }
        ring.wakeGetters(count)
        if ring.awaitingGetters.load(ordering: .acquiring) > 0 { elementSignal.signal(count) }
    }

    /// After `count` gets, the lock released: wakes sleeping putters and awaiting tasks.
    @usableFromInline
    func notifyGet(_ count: Int) {
        guard count > 0 else { return }
        ring.wakePutters(count)
        if ring.awaitingPutters.load(ordering: .acquiring) > 0 { roomSignal.signal(count) }
    }

    /// Puts an element the codec encoded: in the ring, or through the spill path when large.
    @usableFromInline
    func put(encoded bytes: [UInt8], until deadline: Deadline) throws -> Bool {
        if bytes.count > ring.largestPayload { return try putSpilled(bytes, until: deadline) }
        try ring.lockProducers()
        guard try waitForRoom(bytes.count, until: deadline, mayWait: true) else {
            ring.unlockProducers()
            return false
        }
        append(length: bytes.count) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        ring.unlockProducers()
        notifyPut(1)
        return true
    }

    /// An element too large for the ring: its own segment, its descriptor through the spill
    /// socket and a `spilled` record in the ring, both under the ring lock so they stay in order.
    private func putSpilled(_ bytes: [UInt8], until deadline: Deadline) throws -> Bool {
        let segment = try SpillChannel.segment(holding: bytes)
        _ = try ring.spillWriteMutex.lock()
        defer { ring.spillWriteMutex.unlock() }
        try ring.lockProducers()
        while true {
            guard try waitForRoom(0, until: deadline, mayWait: true) else {
                ring.unlockProducers()
                return false
            }
            if try spill.trySend(segment, length: bytes.count) { break }
            // The socket is full of large elements nobody took yet: wait for a get, as for room.
            if deadline.hasPassed {
                ring.unlockProducers()
                return false
            }
            try ring.waitForGet(until: deadline) { true }
        }
        ring.append(kind: .spilled, length: 0) { _ in }
        if isJoinable { sharedAtomic(ring.unfinished).wrappingIncrement(ordering: .releasing) }
        ring.unlockProducers()
        notifyPut(1)
        return true
    }

    // MARK: Getting (the lock held)

    /// Reads the first record if it is an inline one; `nil` for a spilled one (or when `read`
    /// returns `nil`). Nothing is removed.
    @usableFromInline
    func withFirstInline<Result>(_ read: (UnsafeRawBufferPointer) -> Result?) -> Result? {
        ring.withFirst { kind, payload in kind == .inline ? read(payload) : nil }
    }

    /// Removes the first record, which ``withFirstInline(_:)`` just read.
    @usableFromInline
    func dropFirst() { ring.dropFirst() }

    /// What a removed record held, to decode once the lock is released.
    @usableFromInline
    enum Removed {
        case encoded([UInt8])
        case spilled
    }

    /// Removes the first record and returns its bytes.
    @usableFromInline
    func removeFirst() -> Removed {
        let removed = ring.withFirst { kind, payload -> Removed in
            kind == .inline ? .encoded([UInt8](payload)) : .spilled
        }
        ring.dropFirst()
        return removed
    }

    /// The bytes of what a removed record held: its own, or the spilled element's (the lock released).
    @usableFromInline
    func bytes(of removed: Removed) throws -> [UInt8] {
        switch removed {
        case .encoded(let bytes):
            return bytes
        case .spilled:
            _ = try ring.spillReadMutex.lock()
            defer { ring.spillReadMutex.unlock() }
            return try spill.receive()
        }
    }

    // MARK: State

    @usableFromInline
    var count: Int { ring.count }

    @usableFromInline
    var maximumCount: Int { ring.maximumCount }

    @usableFromInline
    var isClosed: Bool { ring.isClosed }

    @usableFromInline
    func close() {
        ring.close()
        elementSignal.signal(Int(UInt32.max))
        roomSignal.signal(Int(UInt32.max))
    }

    var awaitingGetters: UnsafeAtomic<UInt32> { ring.awaitingGetters }

    var awaitingPutters: UnsafeAtomic<UInt32> { ring.awaitingPutters }
}
