/// Carries file descriptors alongside an encoded value, so that a `Codable` type holding a
/// descriptor (a ``Connection``, later shared memory and locks) can be sent to another process.
///
/// While encoding, ``Connection`` puts a carrier in the encoder's `userInfo`; a value that owns a
/// descriptor appends it and encodes only its index. The frame then travels with the descriptors
/// as `SCM_RIGHTS` ancillary data, and the receiving side's carrier hands out the new descriptors
/// by index. Python's `multiprocessing.reduction` does the same for pickled connections.
final class DescriptorCarrier: @unchecked Sendable {
    static let userInfoKey = CodingUserInfoKey(rawValue: "swift-multiprocessing.descriptors")!

    private(set) var descriptors: [CInt]
    private var claimed: [Bool]

    /// A carrier for encoding, which collects descriptors.
    init() {
        descriptors = []
        claimed = []
    }

    /// A carrier for decoding, which owns `received` until they are claimed.
    init(received: [CInt]) {
        descriptors = received
        claimed = Array(repeating: false, count: received.count)
    }

    /// Adds a descriptor to send (the sender keeps its own; the kernel duplicates it in transit).
    func append(_ descriptor: CInt) throws -> Int {
        guard descriptors.count < FrameFormat.maximumDescriptorsPerFrame else {
            throw ConnectionError(
                .descriptorMismatch,
                "a message can carry at most \(FrameFormat.maximumDescriptorsPerFrame) descriptors"
            )
        }
        descriptors.append(descriptor)
        return descriptors.count - 1
    }

    /// Takes ownership of the received descriptor at `index`; each index can be claimed once.
    func claim(_ index: Int) throws -> CInt {
        guard descriptors.indices.contains(index), !claimed[index] else {
            throw ConnectionError(
                .descriptorMismatch,
                "the message refers to descriptor #\(index), but \(descriptors.count) arrived (or it was taken)"
            )
        }
        claimed[index] = true
        return descriptors[index]
    }

    /// Closes every received descriptor nobody claimed, so a failed decode leaks nothing.
    func closeUnclaimed() {
        for index in descriptors.indices where !claimed[index] {
            claimed[index] = true
            system_close(descriptors[index])
        }
    }

    func reset() {
        descriptors.removeAll(keepingCapacity: true)
        claimed.removeAll(keepingCapacity: true)
    }
}
