import Atomics
import SystemPackage
import _CMultiprocessingShims

/// The shared state behind every process queue: a byte ring of records in one segment, guarded by
/// the segment's robust mutex, with futex words for the wake-ups. Nothing here is typed; the queue
/// classes encode and decode.
///
/// ```
/// payload 0     head, tail (UInt64: byte positions that only grow), capacity, count, maximum count
///         40    put sequence, get sequence (UInt32 futex words), waiting getters, waiting putters,
///               closed, unfinished tasks (UInt32, a futex word too), element type fingerprint (UInt64),
///         72    awaiting getters, awaiting putters (UInt32: tasks registered for an async wake-up)
///         128   the spill-write mutex, 192 the spill-read mutex (robust, process-shared)
///         256   the ring: records of [UInt32 length, UInt32 kind, payload, padding to 8 bytes]
/// ```
///
/// A record is written before `tail` moves past it, and consumed before `head` moves, so a holder
/// that dies mid-update leaves at worst a stale `count`: the next locker, told the previous owner
/// died, recounts the records between `head` and `tail`.
struct QueueRing: @unchecked Sendable {
    enum RecordKind: UInt32 {
        /// Encoded bytes (the codec, or a bitwise element's own bytes).
        case inline = 0
        /// The element went through the spill socket in its own segment; nothing else is here.
        case spilled = 1
        /// Filler to the end of the ring, so no record wraps around.
        case padding = 2
    }

    static let ringOffset = 256
    static let recordHeader = 8

    let segment: SharedMemory
    let mutex: RobustMutex
    let spillWriteMutex: RobustMutex
    let spillReadMutex: RobustMutex
    private let control: UnsafeMutableRawPointer
    private let ring: UnsafeMutableRawPointer
    let capacity: Int

    /// A new, empty ring of `capacity` bytes holding at most `maximumCount` records (0: no limit).
    init(capacity: Int, maximumCount: Int, fingerprint: UInt64) throws(SharedMemoryError) {
        guard capacity >= 4096 else {
            throw SharedMemoryError(.invalidArgument, "a queue ring needs 4096 bytes or more")
        }
        let capacity = (capacity + 7) & ~7
        let segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + Self.ringOffset + capacity)
        try SegmentHeader.initialize(segment, kind: .queue, payloadByteCount: Self.ringOffset + capacity, stride: 1)
        let payload = segment.bytes.baseAddress! + SegmentHeader.payloadOffset
        for offset in [128, 192] {
            let result = mpshim_robust_mutex_init(payload + offset, 0, 0)
            guard result == 0 else {
                throw SharedMemoryError(
                    .systemCallFailed,
                    "pthread_mutex_init",
                    underlyingError: .init(rawValue: result)
                )
            }
        }
        self.init(mapped: segment, capacity: capacity)
        let control = self.control
        control.storeBytes(of: UInt64(capacity), toByteOffset: 16, as: UInt64.self)
        control.storeBytes(of: UInt64(maximumCount), toByteOffset: 32, as: UInt64.self)
        control.storeBytes(of: fingerprint, toByteOffset: 64, as: UInt64.self)
    }

    /// A received segment, checked to hold a queue ring of elements with `fingerprint`.
    init(validating segment: SharedMemory, fingerprint: UInt64) throws(SharedMemoryError) {
        let payloadBytes = try SegmentHeader.validate(segment, kind: .queue, stride: 1)
        guard payloadBytes > Self.ringOffset else {
            throw SharedMemoryError(.sizeMismatch, "a queue segment has no room for its ring")
        }
        let control = segment.bytes.baseAddress! + SegmentHeader.payloadOffset
        let capacity = Int(control.load(fromByteOffset: 16, as: UInt64.self))
        guard capacity == payloadBytes - Self.ringOffset else {
            throw SharedMemoryError(
                .sizeMismatch,
                "the queue's ring claims \(capacity) bytes; the segment holds another size"
            )
        }
        guard control.load(fromByteOffset: 64, as: UInt64.self) == fingerprint else {
            throw SharedMemoryError(.invalidArgument, "the queue was made for another element type")
        }
        self.init(mapped: segment, capacity: capacity)
    }

    private init(mapped segment: SharedMemory, capacity: Int) {
        self.segment = segment
        mutex = RobustMutex(at: segment.mutexAddress)
        control = segment.bytes.baseAddress! + SegmentHeader.payloadOffset
        spillWriteMutex = RobustMutex(at: control + 128)
        spillReadMutex = RobustMutex(at: control + 192)
        ring = control + Self.ringOffset
        self.capacity = capacity
    }

    // MARK: Fields (read and written with the mutex held, except the futex words)

    private func field(_ offset: Int) -> UInt64 { control.load(fromByteOffset: offset, as: UInt64.self) }
    private func setField(_ offset: Int, _ value: UInt64) {
        control.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
    }
    private func word(_ offset: Int) -> UnsafeMutablePointer<UInt32> {
        (control + offset).assumingMemoryBound(to: UInt32.self)
    }

    private var head: UInt64 {
        get { field(0) }
        nonmutating set { setField(0, newValue) }
    }
    private var tail: UInt64 {
        get { field(8) }
        nonmutating set { setField(8, newValue) }
    }
    /// Records waiting (spilled ones included): Python's `qsize()`.
    var count: Int { Int(field(24)) }
    private func setCount(_ value: Int) { setField(24, UInt64(value)) }
    var maximumCount: Int { Int(field(32)) }
    var putSequence: UnsafeMutablePointer<UInt32> { word(40) }
    var getSequence: UnsafeMutablePointer<UInt32> { word(44) }
    private var waitingGetters: UnsafeMutablePointer<UInt32> { word(48) }
    private var waitingPutters: UnsafeMutablePointer<UInt32> { word(52) }
    var isClosed: Bool { sharedAtomic(word(56)).load(ordering: .acquiring) != 0 }
    /// Puts not yet matched by a `taskDone()` (joinable queues).
    var unfinished: UnsafeMutablePointer<UInt32> { word(60) }
    /// Tasks awaiting an element (registered under the lock, read by putters after it).
    var awaitingGetters: UnsafeAtomic<UInt32> { sharedAtomic(word(72)) }
    /// Tasks awaiting room.
    var awaitingPutters: UnsafeAtomic<UInt32> { sharedAtomic(word(76)) }

    // MARK: Locking

    /// Takes the ring's lock, repairing the count if a holder died inside it.
    func lock() throws(SharedMemoryError) {
        if try mutex.lock(spinning: 100) == .previousOwnerDied { recount() }
    }

    func unlock() { mutex.unlock() }

    private func recount() {
        var position = head
        var records = 0
        while position < tail {
            let at = Int(position % UInt64(capacity))
            let length = Int(ring.load(fromByteOffset: at, as: UInt32.self))
            let kind = ring.load(fromByteOffset: at + 4, as: UInt32.self)
            if kind != RecordKind.padding.rawValue { records += 1 }
            position += UInt64(Self.recordSize(length))
        }
        setCount(records)
    }

    static func recordSize(_ payloadLength: Int) -> Int { (recordHeader + payloadLength + 7) & ~7 }

    // MARK: Put and get (the caller holds the lock)

    /// Whether a record of `payloadLength` fits now (and the count bound allows one more).
    func hasRoom(for payloadLength: Int) -> Bool {
        if maximumCount > 0, count >= maximumCount { return false }
        return roomNeeded(for: payloadLength) <= capacity - Int(tail - head)
    }

    /// The bytes a record takes, with the padding record needed to avoid wrapping.
    private func roomNeeded(for payloadLength: Int) -> Int {
        let size = Self.recordSize(payloadLength)
        let at = Int(tail % UInt64(capacity))
        return at + size > capacity ? (capacity - at) + size : size
    }

    /// The largest payload that can ever fit.
    var largestPayload: Int { capacity / 4 - Self.recordHeader }

    /// Appends a record; `write` fills its payload. The caller checked ``hasRoom(for:)``.
    func append(kind: RecordKind, length: Int, write: (UnsafeMutableRawPointer) -> Void) {
        var at = Int(tail % UInt64(capacity))
        if at + Self.recordSize(length) > capacity {
            let filler = capacity - at
            ring.storeBytes(of: UInt32(filler - Self.recordHeader), toByteOffset: at, as: UInt32.self)
            ring.storeBytes(of: RecordKind.padding.rawValue, toByteOffset: at + 4, as: UInt32.self)
            tail += UInt64(filler)
            at = 0
        }
        ring.storeBytes(of: UInt32(length), toByteOffset: at, as: UInt32.self)
        ring.storeBytes(of: kind.rawValue, toByteOffset: at + 4, as: UInt32.self)
        write(ring + at + Self.recordHeader)
        tail += UInt64(Self.recordSize(length))
        setCount(count + 1)
        sharedAtomic(putSequence).wrappingIncrement(ordering: .releasing)
    }

    /// Reads the first record without removing it; `read` sees its kind and payload. The caller
    /// checked ``count``.
    func withFirst<Result>(_ read: (RecordKind, UnsafeRawBufferPointer) -> Result) -> Result {
        var at = Int(head % UInt64(capacity))
        if ring.load(fromByteOffset: at + 4, as: UInt32.self) == RecordKind.padding.rawValue {
            head += UInt64(capacity - at)  // the filler before a record that did not fit: skip it
            at = 0
        }
        let length = Int(ring.load(fromByteOffset: at, as: UInt32.self))
        let kind = RecordKind(rawValue: ring.load(fromByteOffset: at + 4, as: UInt32.self)) ?? .inline
        return read(
            kind,
            UnsafeRawBufferPointer(start: ring + at + Self.recordHeader, count: min(length, capacity - at))
        )
    }

    /// Removes the first record, which ``withFirst(_:)`` just read.
    func dropFirst() {
        let at = Int(head % UInt64(capacity))
        head += UInt64(Self.recordSize(Int(ring.load(fromByteOffset: at, as: UInt32.self))))
        setCount(count - 1)
        sharedAtomic(getSequence).wrappingIncrement(ordering: .releasing)
    }

    // MARK: Waiting (the caller holds the lock; it is released while asleep and held again after)

    /// Sleeps until something is put (or `deadline`); false when the deadline passed.
    func waitForPut(until deadline: Deadline) throws(SharedMemoryError) -> Bool {
        try waitForChange(of: putSequence, counting: waitingGetters, until: deadline)
    }

    /// Sleeps until something is taken (or `deadline`); false when the deadline passed.
    func waitForGet(until deadline: Deadline) throws(SharedMemoryError) -> Bool {
        try waitForChange(of: getSequence, counting: waitingPutters, until: deadline)
    }

    private func waitForChange(
        of sequence: UnsafeMutablePointer<UInt32>,
        counting waiters: UnsafeMutablePointer<UInt32>,
        until deadline: Deadline
    ) throws(SharedMemoryError) -> Bool {
        let seen = sharedAtomic(sequence).load(ordering: .acquiring)
        sharedAtomic(waiters).wrappingIncrement(ordering: .relaxed)
        unlock()
        let woken = system_futex_wait(sequence, expected: seen, until: deadline)
        try lock()
        sharedAtomic(waiters).wrappingDecrement(ordering: .relaxed)
        return woken || sharedAtomic(sequence).load(ordering: .acquiring) != seen
    }

    /// Wakes getters after puts, if any sleep (no system call otherwise). Call after unlocking.
    func wakeGetters(_ count: Int) {
        if sharedAtomic(waitingGetters).load(ordering: .relaxed) > 0 {
            system_futex_wake(putSequence, count: Int32(clamping: count))
        }
    }

    /// Wakes putters after gets, if any sleep. Call after unlocking.
    func wakePutters(_ count: Int) {
        if sharedAtomic(waitingPutters).load(ordering: .relaxed) > 0 {
            system_futex_wake(getSequence, count: Int32(clamping: count))
        }
    }

    /// Marks the queue closed and wakes everyone waiting.
    func close() {
        sharedAtomic(word(56)).store(1, ordering: .releasing)
        sharedAtomic(putSequence).wrappingIncrement(ordering: .releasing)
        sharedAtomic(getSequence).wrappingIncrement(ordering: .releasing)
        system_futex_wake(putSequence, count: Int32.max)
        system_futex_wake(getSequence, count: Int32.max)
    }
}
