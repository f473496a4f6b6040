/// A segment holding one robust mutex: the state behind ``ProcessLock`` and ``ProcessRecursiveLock``.
struct MutexSegment: Sendable {
    let segment: SharedMemory
    let mutex: RobustMutex

    /// A new segment with an unlocked mutex.
    init(kind: SegmentHeader.Kind, mutex options: SegmentHeader.MutexOptions) throws(SharedMemoryError) {
        segment = try SharedMemory(byteCount: SegmentHeader.payloadOffset)
        try SegmentHeader.initialize(segment, kind: kind, payloadByteCount: 0, stride: 0, mutex: options)
        mutex = RobustMutex(at: segment.mutexAddress)
    }

    /// A received segment, checked to hold a mutex of `kind`.
    init(validating segment: SharedMemory, kind: SegmentHeader.Kind) throws(SharedMemoryError) {
        _ = try SegmentHeader.validate(segment, kind: kind, stride: 0)
        self.segment = segment
        mutex = RobustMutex(at: segment.mutexAddress)
    }

    func withLock<Result>(_ body: () throws -> Result) throws -> Result {
        _ = try mutex.lock()
        defer { mutex.unlock() }
        return try body()
    }
}
