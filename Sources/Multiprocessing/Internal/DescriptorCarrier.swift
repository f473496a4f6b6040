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

extension DescriptorCarrier {
    /// The carrier of an encoder that is writing a frame, or an error naming `what` cannot be sent
    /// another way (a descriptor means nothing as JSON).
    static func forEncoding(_ encoder: any Encoder, sending what: String, value: Any) throws -> DescriptorCarrier {
        guard let carrier = encoder.userInfo[userInfoKey] as? DescriptorCarrier else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: encoder.codingPath,
                    debugDescription: "\(what) can only be sent through a Connection or to a ChildProcess"
                )
            )
        }
        return carrier
    }

    /// The carrier of a decoder that is reading a received frame, or an error naming `what`.
    static func forDecoding(_ decoder: any Decoder, receiving what: String) throws -> DescriptorCarrier {
        guard let carrier = decoder.userInfo[userInfoKey] as? DescriptorCarrier else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "\(what) can only be received through a Connection or in a task"
                )
            )
        }
        return carrier
    }
}
