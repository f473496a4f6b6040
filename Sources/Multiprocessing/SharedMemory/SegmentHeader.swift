import Atomics
import SystemPackage
import _CMultiprocessingShims

/// The fixed header at the start of every segment this library lays out (a lock, a value, an
/// array): what it holds and how, so that a process handed a segment checks it before using it.
/// Values are reached by offset from the mapping, never by a stored address: every process maps a
/// segment at a different address.
///
/// ```
/// offset 0    magic (UInt32) · version (UInt16) · kind (UInt16) · payload bytes (UInt64) · element stride (UInt64)
/// offset 24   mutex options (UInt32: recursive, first come first served)
/// offset 64   a robust process-shared pthread mutex (40 bytes on x86_64 Linux; 64 reserved)
/// offset 128  the payload: a value, or the elements of an array
/// ```
struct SegmentHeader {
    static let magic: UInt32 = 0x4D50_5348  // "MPSH"
    static let version: UInt16 = 1
    static let mutexOffset = 64
    static let payloadOffset = 128
    /// The payload's alignment: enough for every value the stdlib lays out (and SIMD types).
    static let payloadAlignment = 64

    enum Kind: UInt16 {
        case lock = 1
        case value = 2
        case array = 3
        case event = 4
        case semaphore = 5
        case recursiveLock = 6
        case barrier = 7
        case condition = 8
        case queue = 9
    }

    /// How the segment's mutex behaves; recorded in the header so a receiver can tell.
    struct MutexOptions: OptionSet {
        let rawValue: UInt32
        static let recursive = MutexOptions(rawValue: 1)
        static let firstComeFirstServed = MutexOptions(rawValue: 2)
    }

    /// Writes a header into a fresh (zeroed) segment and initializes its mutex.
    static func initialize(
        _ segment: SharedMemory,
        kind: Kind,
        payloadByteCount: Int,
        stride: Int,
        mutex options: MutexOptions = []
    ) throws(SharedMemoryError) {
        let base = segment.bytes.baseAddress!
        precondition(mpshim_mutex_size() <= payloadOffset - mutexOffset)
        let result = mpshim_robust_mutex_init(
            base + mutexOffset,
            options.contains(.recursive) ? 1 : 0,
            options.contains(.firstComeFirstServed) ? 1 : 0
        )
        guard result == 0 else {
            throw SharedMemoryError(.systemCallFailed, "pthread_mutex_init", underlyingError: .init(rawValue: result))
        }
        base.storeBytes(of: magic, toByteOffset: 0, as: UInt32.self)
        base.storeBytes(of: version, toByteOffset: 4, as: UInt16.self)
        base.storeBytes(of: kind.rawValue, toByteOffset: 6, as: UInt16.self)
        base.storeBytes(of: UInt64(payloadByteCount), toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: UInt64(stride), toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: options.rawValue, toByteOffset: 24, as: UInt32.self)
    }

    /// Checks a segment received from another process: our magic and version, the expected kind
    /// and element stride, and a payload that fits in the mapping. Returns the payload's byte count.
    static func validate(_ segment: SharedMemory, kind: Kind, stride: Int) throws(SharedMemoryError) -> Int {
        guard segment.byteCount >= payloadOffset else {
            throw SharedMemoryError(.sizeMismatch, "a \(segment.byteCount)-byte segment has no room for a header")
        }
        let base = UnsafeRawPointer(segment.bytes.baseAddress!)
        guard base.load(as: UInt32.self) == magic, base.load(fromByteOffset: 4, as: UInt16.self) == version else {
            throw SharedMemoryError(.invalidArgument, "the segment was not laid out by this version of the library")
        }
        let foundKind = base.load(fromByteOffset: 6, as: UInt16.self)
        let foundStride = base.load(fromByteOffset: 16, as: UInt64.self)
        guard foundKind == kind.rawValue, foundStride == UInt64(stride) else {
            throw SharedMemoryError(
                .invalidArgument,
                "the segment holds kind \(foundKind) with stride \(foundStride); expected \(kind) with stride \(stride)"
            )
        }
        let payload = base.load(fromByteOffset: 8, as: UInt64.self)
        guard payload <= UInt64(segment.byteCount - payloadOffset) else {
            throw SharedMemoryError(.sizeMismatch, "the header claims \(payload) bytes; the segment holds fewer")
        }
        return Int(payload)
    }
}

extension SharedMemory {
    /// The mutex options a laid-out segment records.
    var mutexOptions: SegmentHeader.MutexOptions {
        SegmentHeader.MutexOptions(
            rawValue: UnsafeRawPointer(bytes.baseAddress!).load(fromByteOffset: 24, as: UInt32.self)
        )
    }

    /// The payload of a laid-out segment (`offset` bytes in), bound to `type`.
    func payload<T>(as type: T.Type, capacity: Int, offset: Int = 0) -> UnsafeMutablePointer<T> {
        (bytes.baseAddress! + SegmentHeader.payloadOffset + offset).bindMemory(to: type, capacity: capacity)
    }

    /// Where a laid-out segment keeps its mutex.
    var mutexAddress: UnsafeMutableRawPointer { bytes.baseAddress! + SegmentHeader.mutexOffset }
}

/// An atomic view of a word in shared memory, which it never owns (swift-atomics' `UnsafeAtomic(at:)`).
func sharedAtomic<Value: AtomicValue>(_ word: UnsafeMutablePointer<Value>) -> UnsafeAtomic<Value> {
    UnsafeAtomic(at: UnsafeMutableRawPointer(word).assumingMemoryBound(to: Value.AtomicRepresentation.self))
}
