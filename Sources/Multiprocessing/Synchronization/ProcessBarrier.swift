import Atomics

/// A meeting point for a fixed number of processes or threads: Python's `multiprocessing.Barrier`.
///
/// ```swift
/// let barrier = try ProcessBarrier(parties: 3)
/// // in each of 3 processes:
/// let index = try barrier.wait()        // returns once all 3 have arrived; 0...2, one each
/// ```
///
/// One 64-bit word in shared memory holds the generation (high half) and the arrivals (low half),
/// changed with compare-and-swap; waiters sleep on the generation with a shared futex. A waiter
/// that times out breaks the barrier for everyone (``SharedMemoryError/Code-swift.struct/brokenBarrier``),
/// as in Python, until ``reset()``.
public final class ProcessBarrier: @unchecked Sendable {
    let segment: SharedMemory
    /// The number of processes or threads that must arrive.
    public let parties: Int
    private let state: UnsafeMutablePointer<UInt64>
    private let brokenWord: UnsafeMutablePointer<UInt32>

    /// A barrier for `parties` arrivals.
    ///
    /// - Throws: ``SharedMemoryError`` `.invalidArgument` for fewer than 1 party; `.systemCallFailed`.
    public init(parties: Int) throws(SharedMemoryError) {
        guard parties >= 1, parties < Int(UInt32.max) else {
            throw SharedMemoryError(.invalidArgument, "a barrier for \(parties) parties")
        }
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset + 16)
        try SegmentHeader.initialize(segment, kind: .barrier, payloadByteCount: 16, stride: 16)
        state = segment.payload(as: UInt64.self, capacity: 1)
        brokenWord = segment.payload(as: UInt32.self, capacity: 2, offset: 8)
        (brokenWord + 1).initialize(to: UInt32(parties))
        self.parties = parties
    }

    init(validating segment: SharedMemory) throws(SharedMemoryError) {
        guard try SegmentHeader.validate(segment, kind: .barrier, stride: 16) == 16 else {
            throw SharedMemoryError(.sizeMismatch, "a barrier segment holds 16 bytes")
        }
        self.segment = segment
        state = segment.payload(as: UInt64.self, capacity: 1)
        brokenWord = segment.payload(as: UInt32.self, capacity: 2, offset: 8)
        parties = Int((brokenWord + 1).pointee)
        guard parties >= 1 else { throw SharedMemoryError(.invalidArgument, "a received barrier for 0 parties") }
    }

    private var atomicState: UnsafeAtomic<UInt64> {
        sharedAtomic(state)
    }

    private var atomicBroken: UnsafeAtomic<UInt32> {
        sharedAtomic(brokenWord)
    }

    /// The generation's half of the state word, which waiters sleep on (little-endian: the high half).
    private var generationWord: UnsafeMutablePointer<UInt32> {
        (UnsafeMutableRawPointer(state) + 4).assumingMemoryBound(to: UInt32.self)
    }

    /// Whether a timed-out waiter broke the barrier: Python's `broken`.
    public var isBroken: Bool { atomicBroken.load(ordering: .acquiring) != 0 }

    /// Waits until all parties have arrived: Python's `wait(timeout)`.
    ///
    /// - Parameter timeout: `nil` waits as long as it takes. When it passes, the barrier breaks.
    /// - Returns: This arrival's index, `0..<parties`, different for each party of a generation.
    /// - Throws: ``SharedMemoryError/Code-swift.struct/brokenBarrier`` when this or another waiter
    ///   timed out, or the barrier was reset while waiting.
    @discardableResult
    public func wait(timeout: Duration? = nil) throws(SharedMemoryError) -> Int {
        if isBroken { throw SharedMemoryError(.brokenBarrier, "the barrier is broken") }
        let deadline = Deadline(timeout: timeout)
        var current = atomicState.load(ordering: .relaxed)
        var index: UInt64
        var generation: UInt64
        while true {
            generation = current >> 32
            index = current & 0xFFFF_FFFF
            let isLast = index + 1 == UInt64(parties)
            let desired = isLast ? (generation &+ 1) << 32 : generation << 32 | (index + 1)
            let (exchanged, original) = atomicState.weakCompareExchange(
                expected: current,
                desired: desired,
                ordering: .acquiringAndReleasing
            )
            if exchanged {
                if isLast {
                    system_futex_wake(generationWord, count: Int32.max)
                    return Int(index)
                }
                break
            }
            current = original
        }
        // Broken between the first check and this arrival: nobody will complete this generation.
        if isBroken { throw SharedMemoryError(.brokenBarrier, "the barrier is broken") }
        while atomicState.load(ordering: .acquiring) >> 32 == generation {
            if !system_futex_wait(generationWord, expected: UInt32(truncatingIfNeeded: generation), until: deadline) {
                guard atomicState.load(ordering: .acquiring) >> 32 == generation else { break }
                breakBarrier()
                throw SharedMemoryError(.brokenBarrier, "timed out waiting for \(parties) parties")
            }
        }
        // Breaking moves to a new generation too (so no sleeper misses it): tell the two apart.
        if isBroken { throw SharedMemoryError(.brokenBarrier, "the barrier broke while waiting") }
        return Int(index)
    }

    /// Breaks the barrier: every waiter, now and later, throws `.brokenBarrier`. Python's `abort()`.
    public func abort() { breakBarrier() }

    /// Returns the barrier to its initial state: Python's `reset()`. Waiters of the current
    /// generation are released with `.brokenBarrier`, unless they see the reset's end first.
    public func reset() {
        breakBarrier()
        atomicBroken.store(0, ordering: .releasing)
    }

    /// Marks the barrier broken, then moves it to a new generation (arrivals back to 0) and wakes
    /// every sleeper: changing the word they sleep on is what makes the break impossible to miss.
    private func breakBarrier() {
        atomicBroken.store(1, ordering: .releasing)
        var current = atomicState.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = atomicState.weakCompareExchange(
                expected: current,
                desired: ((current >> 32) &+ 1) << 32,
                ordering: .acquiringAndReleasing
            )
            if exchanged { break }
            current = original
        }
        system_futex_wake(generationWord, count: Int32.max)
    }
}

/// A barrier crosses to another process inside any `Codable` value as its segment's descriptor.
extension ProcessBarrier: Codable {
    public func encode(to encoder: any Encoder) throws { try SharedMemory.encodeSegment(segment, to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        try self.init(validating: try SharedMemory.decodeSegment(from: decoder))
    }
}
