/// A segment crosses to another process inside any `Codable` value sent through a ``Connection``
/// or in a ``ChildProcess``'s task: as its descriptor (`SCM_RIGHTS`) and size, never as a copy of
/// its bytes. The receiver maps the same memory.
extension SharedMemory: Codable {
    private enum CodingKeys: String, CodingKey {
        case descriptor, byteCount, name
    }

    public func encode(to encoder: any Encoder) throws {
        let carrier = try DescriptorCarrier.forEncoding(encoder, sending: "shared memory", value: self)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(try carrier.append(rawDescriptor), forKey: .descriptor)
        try container.encode(byteCount, forKey: .byteCount)
        try container.encodeIfPresent(name, forKey: .name)
    }

    public convenience init(from decoder: any Decoder) throws {
        let carrier = try DescriptorCarrier.forDecoding(decoder, receiving: "shared memory")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let index = try container.decode(Int.self, forKey: .descriptor)
        let byteCount = try container.decode(Int.self, forKey: .byteCount)
        let name = try container.decodeIfPresent(String.self, forKey: .name)
        try self.init(receiving: OwnedDescriptor(adopting: try carrier.claim(index)), byteCount: byteCount, name: name)
    }

    /// Maps a segment received from another process. An anonymous one must be size-sealed, or its
    /// sender could shrink it under our mapping; a claimed size is checked against the segment
    /// itself before mapping (without one, the segment's own size is used).
    convenience init(
        receiving descriptor: consuming OwnedDescriptor,
        byteCount: Int? = nil,
        name: String? = nil
    ) throws(SharedMemoryError) {
        guard name != nil || system_is_size_sealed(descriptor.rawValue) else {
            throw SharedMemoryError(.invalidArgument, "a received anonymous segment is not sealed against resizing")
        }
        let size = try Self.size(of: descriptor.rawValue, expected: byteCount, what: "a received segment")
        try self.init(mapping: descriptor, byteCount: size, name: name, ownsName: false)
    }
}

/// The `Codable` of a type that lives in one laid-out segment: it crosses as the segment.
extension SharedMemory {
    static func encodeSegment(_ segment: SharedMemory, to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(segment)
    }

    static func decodeSegment(from decoder: any Decoder) throws -> SharedMemory {
        try decoder.singleValueContainer().decode(SharedMemory.self)
    }
}
