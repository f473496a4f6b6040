import Atomics
import SystemPackage
import _CMultiprocessingShims

/// The shared state behind every process queue: a byte ring of records in one segment, with one
/// robust mutex for producers and another for consumers (so a producer and a consumer never wait
/// for each other's lock), and futex words for the wake-ups. Nothing here is typed; the queue
/// classes encode and decode.
///
/// ```
/// payload 0     capacity, maximum count, element fingerprint (UInt64); closed, unfinished tasks,
///               awaiting getters, awaiting putters, sleeping getters, sleeping putters (UInt32)
///                                                                  read on every operation, rarely written
///         64    tail, puts, pending tail, pending puts (UInt64); put sequence      producers write
///         128   head, gets, pending head, pending gets (UInt64); get sequence      consumers write
///         192   the consumers' mutex; 256 the spill-write mutex; 320 the spill-read mutex
///         512   the ring: records of [UInt32 length, UInt32 kind, payload, padding to 8 bytes]
/// ```
/// The producers' mutex is the segment's own (at segment offset 64).
///
/// A lock holder works on a private cursor and publishes once, when it releases the lock or before
/// it sleeps: a batch of puts (or gets) costs one publication, and neither side reads the other's
/// position for every record. Publication is pending tail, pending puts, tail, puts, in that
/// order. A producer killed anywhere in between leaves either an unpublished record (the tail did
/// not move: nothing happened) or a published one whose count is behind; the next producer, told
/// the previous owner died, finishes the publication from the pending values. Consumers mirror it.
final class QueueRing: @unchecked Sendable {
    enum RecordKind: UInt32 {
        /// Encoded bytes (the codec, or a bitwise element's own bytes).
        case inline = 0
        /// The element went through the spill socket in its own segment; nothing else is here.
        case spilled = 1
        /// Filler to the end of the ring, so no record wraps around.
        case padding = 2
    }

    static let ringOffset = 512
    static let recordHeader = 8

    let segment: SharedMemory
    /// Producers hold it to append, consumers the other one to remove.
    let producerMutex: RobustMutex
    let consumerMutex: RobustMutex
    let spillWriteMutex: RobustMutex
    let spillReadMutex: RobustMutex
    private let control: UnsafeMutableRawPointer
    private let ring: UnsafeMutableRawPointer
    let capacity: Int

    // The cursors: this process's view while it holds a lock (the lock makes them exclusive).
    /// Where the next record goes, how many were written since the last publication, and the
    /// consumers' head as last read.
    private var writeEnd: UInt64 = 0
    private var written: UInt64 = 0
    private var knownHead: UInt64 = 0
    /// Where the next record to remove starts, how many were removed since the last publication,
    /// and the producers' tail as last read.
    private var readStart: UInt64 = 0
    private var taken: UInt64 = 0
    private var knownTail: UInt64 = 0

    /// A new, empty ring of `capacity` bytes holding at most `maximumCount` records (0: no limit).
    convenience init(capacity: Int, maximumCount: Int, fingerprint: UInt64) throws(SharedMemoryError) {
        guard capacity >= 4096 else {
            throw SharedMemoryError(.invalidArgument, "a queue ring needs 4096 bytes or more")
        }
        let capacity = (capacity + 7) & ~7
        let segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + Self.ringOffset + capacity)
        try SegmentHeader.initialize(segment, kind: .queue, payloadByteCount: Self.ringOffset + capacity, stride: 1)
        let payload = segment.bytes.baseAddress! + SegmentHeader.payloadOffset
        for offset in [192, 256, 320] {
            let result = mpshim_robust_mutex_init(payload + offset, 0, 0)
            guard result == 0 else {
                throw SharedMemoryError(
                    .systemCallFailed,
                    "pthread_mutex_init",
                    underlyingError: .init(rawValue: result)
                )
            }
        }
        payload.storeBytes(of: UInt64(capacity), toByteOffset: 0, as: UInt64.self)
        payload.storeBytes(of: UInt64(maximumCount), toByteOffset: 8, as: UInt64.self)
        payload.storeBytes(of: fingerprint, toByteOffset: 16, as: UInt64.self)
        self.init(mapped: segment, capacity: capacity)
    }

    /// A received segment, checked to hold a queue ring of elements with `fingerprint`.
    convenience init(validating segment: SharedMemory, fingerprint: UInt64) throws(SharedMemoryError) {
        let payloadBytes = try SegmentHeader.validate(segment, kind: .queue, stride: 1)
        guard payloadBytes > Self.ringOffset else {
            throw SharedMemoryError(.sizeMismatch, "a queue segment has no room for its ring")
        }
        let control = segment.bytes.baseAddress! + SegmentHeader.payloadOffset
        let capacity = Int(control.load(fromByteOffset: 0, as: UInt64.self))
        guard capacity == payloadBytes - Self.ringOffset else {
            throw SharedMemoryError(
                .sizeMismatch,
                "the queue's ring claims \(capacity) bytes; the segment holds another size"
            )
        }
        guard control.load(fromByteOffset: 16, as: UInt64.self) == fingerprint else {
            throw SharedMemoryError(.invalidArgument, "the queue was made for another element type")
        }
        self.init(mapped: segment, capacity: capacity)
    }

    private init(mapped segment: SharedMemory, capacity: Int) {
        self.segment = segment
        producerMutex = RobustMutex(at: segment.mutexAddress)
        control = segment.bytes.baseAddress! + SegmentHeader.payloadOffset
        consumerMutex = RobustMutex(at: control + 192)
        spillWriteMutex = RobustMutex(at: control + 256)
        spillReadMutex = RobustMutex(at: control + 320)
        ring = control + Self.ringOffset
        self.capacity = capacity
    }

    // MARK: Fields

    private func position(_ offset: Int) -> UnsafeAtomic<UInt64> {
        sharedAtomic((control + offset).assumingMemoryBound(to: UInt64.self))
    }
    private func word(_ offset: Int) -> UnsafeMutablePointer<UInt32> {
        (control + offset).assumingMemoryBound(to: UInt32.self)
    }

    var maximumCount: Int { Int(control.load(fromByteOffset: 8, as: UInt64.self)) }
    private var closedWord: UnsafeMutablePointer<UInt32> { word(24) }
    var isClosed: Bool { sharedAtomic(closedWord).load(ordering: .acquiring) != 0 }
    /// Puts not yet matched by a `taskDone()` (joinable queues).
    var unfinished: UnsafeMutablePointer<UInt32> { word(28) }
    /// Tasks awaiting an element (they register before they try; putters read it after a put).
    var awaitingGetters: UnsafeAtomic<UInt32> { sharedAtomic(word(32)) }
    /// Tasks awaiting room.
    var awaitingPutters: UnsafeAtomic<UInt32> { sharedAtomic(word(36)) }

    private var tail: UnsafeAtomic<UInt64> { position(64) }
    private var puts: UnsafeAtomic<UInt64> { position(72) }
    private var pendingTail: UnsafeAtomic<UInt64> { position(80) }
    private var pendingPuts: UnsafeAtomic<UInt64> { position(88) }
    var putSequence: UnsafeMutablePointer<UInt32> { word(96) }
    /// On the read-mostly line: every get reads it, and only a putter about to sleep writes it.
    private var sleepingPutters: UnsafeAtomic<UInt32> { sharedAtomic(word(44)) }

    private var head: UnsafeAtomic<UInt64> { position(128) }
    private var gets: UnsafeAtomic<UInt64> { position(136) }
    private var pendingHead: UnsafeAtomic<UInt64> { position(144) }
    private var pendingGets: UnsafeAtomic<UInt64> { position(152) }
    var getSequence: UnsafeMutablePointer<UInt32> { word(160) }
    private var sleepingGetters: UnsafeAtomic<UInt32> { sharedAtomic(word(40)) }

    /// Elements waiting (spilled ones included): Python's `qsize()`, exact only while nobody
    /// puts or gets.
    var count: Int {
        let taken = gets.load(ordering: .acquiring)
        return Int(truncatingIfNeeded: puts.load(ordering: .acquiring) &- taken)
    }

    // MARK: Locking

    /// Takes the producers' lock, finishing the publication of a producer that died inside it.
    func lockProducers() throws(SharedMemoryError) {
        if try producerMutex.lock(spinning: 100) == .previousOwnerDied {
            if tail.load(ordering: .relaxed) == pendingTail.load(ordering: .relaxed) {
                puts.store(pendingPuts.load(ordering: .relaxed), ordering: .releasing)
            }
        }
        writeEnd = tail.load(ordering: .relaxed)
        written = 0
        // knownHead stays: the head only grows, so an old reading is a safe lower bound, and
        // hasRoom rereads it only when the room it implies is not enough.
    }

    /// Publishes what was written and releases the producers' lock.
    func unlockProducers() {
        publishWritten()
        producerMutex.unlock()
    }

    private func publishWritten() {
        guard written > 0 else { return }
        let count = puts.load(ordering: .relaxed) + written
        pendingTail.store(writeEnd, ordering: .relaxed)
        pendingPuts.store(count, ordering: .releasing)
        tail.store(writeEnd, ordering: .sequentiallyConsistent)  // before the sleeping-getters check
        puts.store(count, ordering: .releasing)
        written = 0
    }

    /// Takes the consumers' lock, finishing the removal of a consumer that died inside it.
    func lockConsumers() throws(SharedMemoryError) {
        if try consumerMutex.lock(spinning: 100) == .previousOwnerDied {
            if head.load(ordering: .relaxed) == pendingHead.load(ordering: .relaxed) {
                gets.store(pendingGets.load(ordering: .relaxed), ordering: .releasing)
            }
        }
        readStart = head.load(ordering: .relaxed)
        taken = 0
        // An older reading of the tail still marks published records, unless other consumers
        // have taken them all since.
        if knownTail <= readStart { knownTail = tail.load(ordering: .sequentiallyConsistent) }
    }

    /// Publishes what was removed and releases the consumers' lock.
    func unlockConsumers() {
        publishTaken()
        consumerMutex.unlock()
    }

    private func publishTaken() {
        guard taken > 0 else { return }
        let count = gets.load(ordering: .relaxed) + taken
        pendingHead.store(readStart, ordering: .relaxed)
        pendingGets.store(count, ordering: .releasing)
        head.store(readStart, ordering: .sequentiallyConsistent)  // before the sleeping-putters check
        gets.store(count, ordering: .releasing)
        taken = 0
    }

    static func recordSize(_ payloadLength: Int) -> Int { (recordHeader + payloadLength + 7) & ~7 }

    /// The largest payload that can ever fit.
    var largestPayload: Int { capacity / 4 - Self.recordHeader }

    // MARK: Producers (the producers' lock held)

    /// Whether a record of `payloadLength` fits now (and the count bound allows one more).
    func hasRoom(for payloadLength: Int) -> Bool {
        let maximum = maximumCount
        if maximum > 0 {
            let waiting = puts.load(ordering: .relaxed) &+ written &- gets.load(ordering: .acquiring)
            if waiting >= UInt64(maximum) { return false }
        }
        let size = Self.recordSize(payloadLength)
        let at = Int(writeEnd % UInt64(capacity))
        let needed = at + size > capacity ? (capacity - at) + size : size
        if needed <= capacity - Int(writeEnd &- knownHead) { return true }
        knownHead = head.load(ordering: .sequentiallyConsistent)  // the consumers may have moved on
        return needed <= capacity - Int(writeEnd &- knownHead)
    }

    /// Writes a record at the cursor; `write` fills its payload. The caller checked
    /// ``hasRoom(for:)``. Consumers see it once it is published.
    func append(kind: RecordKind, length: Int, write: (UnsafeMutableRawPointer) -> Void) {
        var at = Int(writeEnd % UInt64(capacity))
        if at + Self.recordSize(length) > capacity {
            let filler = capacity - at
            ring.storeBytes(of: UInt32(filler - Self.recordHeader), toByteOffset: at, as: UInt32.self)
            ring.storeBytes(of: RecordKind.padding.rawValue, toByteOffset: at + 4, as: UInt32.self)
            writeEnd += UInt64(filler)
            at = 0
        }
        ring.storeBytes(of: UInt32(length), toByteOffset: at, as: UInt32.self)
        ring.storeBytes(of: kind.rawValue, toByteOffset: at + 4, as: UInt32.self)
        write(ring + at + Self.recordHeader)
        writeEnd += UInt64(Self.recordSize(length))
        written += 1
    }

    /// Sleeps until something is taken, or `deadline`; the producers' lock is released while asleep
    /// and held again after. Returns at once if `stillFull` no longer holds once registered.
    func waitForGet(until deadline: Deadline, stillFull: () -> Bool) throws(SharedMemoryError) {
        if written > 0 {  // what this holder wrote must be seen before it sleeps
            let count = Int(written)
            publishWritten()
            wakeGetters(count)
        }
        sleepingPutters.wrappingIncrement(ordering: .sequentiallyConsistent)
        let seen = sharedAtomic(getSequence).load(ordering: .sequentiallyConsistent)
        if stillFull() && !isClosed {
            unlockProducers()
            _ = system_futex_wait(getSequence, expected: seen, until: deadline)
            sleepingPutters.wrappingDecrement(ordering: .relaxed)
            try lockProducers()
        } else {
            sleepingPutters.wrappingDecrement(ordering: .relaxed)
        }
    }

    // MARK: Consumers (the consumers' lock held)

    /// Whether a record waits to be removed.
    var hasRecord: Bool {
        if knownTail > readStart { return true }
        knownTail = tail.load(ordering: .sequentiallyConsistent)  // the producers may have published more
        return knownTail > readStart
    }

    /// Where the first record starts, how many bytes of padding come before it, and its length
    /// and kind.
    private func first() -> (at: Int, skipped: Int, length: Int, kind: RecordKind) {
        var at = Int(readStart % UInt64(capacity))
        var skipped = 0
        if ring.load(fromByteOffset: at + 4, as: UInt32.self) == RecordKind.padding.rawValue {
            skipped = capacity - at
            at = 0
        }
        let length = Int(ring.load(fromByteOffset: at, as: UInt32.self))
        let kind = RecordKind(rawValue: ring.load(fromByteOffset: at + 4, as: UInt32.self)) ?? .inline
        return (at, skipped, min(length, capacity - at - Self.recordHeader), kind)
    }

    /// Reads the first record without removing it. The caller checked ``hasRecord``.
    func withFirst<Result>(_ read: (RecordKind, UnsafeRawBufferPointer) -> Result) -> Result {
        let (at, _, length, kind) = first()
        return read(kind, UnsafeRawBufferPointer(start: ring + at + Self.recordHeader, count: length))
    }

    /// Removes the first record, which ``withFirst(_:)`` just read; producers see the room once
    /// the removal is published.
    func dropFirst() {
        let (_, skipped, length, _) = first()
        readStart += UInt64(skipped + Self.recordSize(length))
        taken += 1
    }

    /// Sleeps until something is put, or `deadline`; the consumers' lock is released while asleep
    /// and held again after. Returns at once if the ring is no longer empty once registered.
    func waitForPut(until deadline: Deadline) throws(SharedMemoryError) {
        if taken > 0 {
            let count = Int(taken)
            publishTaken()
            wakePutters(count)
        }
        sleepingGetters.wrappingIncrement(ordering: .sequentiallyConsistent)
        let seen = sharedAtomic(putSequence).load(ordering: .sequentiallyConsistent)
        if !hasRecord && !isClosed {
            unlockConsumers()
            _ = system_futex_wait(putSequence, expected: seen, until: deadline)
            sleepingGetters.wrappingDecrement(ordering: .relaxed)
            try lockConsumers()
        } else {
            sleepingGetters.wrappingDecrement(ordering: .relaxed)
        }
    }

    /// Watches for a record for up to `rounds` spins before the caller sleeps: a producer on
    /// another CPU usually publishes within a microsecond, and a futex sleep and wake cost more.
    func spinUntilRecord(rounds: Int) -> Bool {
        for _ in 0..<rounds {
            if hasRecord { return true }
            mpshim_spin_pause()
        }
        return hasRecord
    }

    /// Watches for room for a record of `payloadLength` for up to `rounds` spins before the caller
    /// sleeps: with a consumer at work, room appears within a microsecond, and a full ring whose
    /// putter sleeps would cost a sleep and a wake-up for every element.
    func spinUntilRoom(for payloadLength: Int, rounds: Int) -> Bool {
        for _ in 0..<rounds {
            if hasRoom(for: payloadLength) { return true }
            mpshim_spin_pause()
        }
        return hasRoom(for: payloadLength)
    }

    // MARK: Waking (no lock needed)

    /// After puts were published: if a getter sleeps (or is about to), moves the put sequence it
    /// sleeps on and wakes it. Nothing at all otherwise: a getter registers as sleeping before it
    /// rereads the tail, and the tail is published (sequentially consistent) before this check, so
    /// either the getter sees the new tail or this sees the getter.
    func wakeGetters(_ count: Int) {
        if sleepingGetters.load(ordering: .sequentiallyConsistent) > 0 {
            sharedAtomic(putSequence).wrappingIncrement(ordering: .sequentiallyConsistent)
            system_futex_wake(putSequence, count: Int32(clamping: count))
        }
    }

    /// After gets were published: the same for sleeping putters.
    func wakePutters(_ count: Int) {
        if sleepingPutters.load(ordering: .sequentiallyConsistent) > 0 {
            sharedAtomic(getSequence).wrappingIncrement(ordering: .sequentiallyConsistent)
            system_futex_wake(getSequence, count: Int32(clamping: count))
        }
    }

    /// Marks the queue closed and wakes everyone waiting.
    func close() {
        sharedAtomic(closedWord).store(1, ordering: .sequentiallyConsistent)
        sharedAtomic(putSequence).wrappingIncrement(ordering: .sequentiallyConsistent)
        sharedAtomic(getSequence).wrappingIncrement(ordering: .sequentiallyConsistent)
        system_futex_wake(putSequence, count: Int32.max)
        system_futex_wake(getSequence, count: Int32.max)
    }
}
