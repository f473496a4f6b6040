import SystemPackage

/// A connection can be sent to another process, inside any `Codable` value: through another
/// ``Connection`` or in the task of a ``ChildProcess``. The receiver gets its own descriptor for the
/// same socket (`SCM_RIGHTS`); the sender keeps its end open until it closes it.
///
/// Encoding it with any other encoder (JSON, say) throws: a descriptor means nothing as text.
extension Connection: Codable {
    private enum CodingKeys: String, CodingKey {
        case descriptor, maximumFrameSize, isReadable, isWritable
    }

    public func encode(to encoder: any Encoder) throws {
        let carrier = try DescriptorCarrier.forEncoding(encoder, sending: "a Connection", value: self)
        guard let fd = descriptor?.rawValue else {
            throw ConnectionError(.closed, "a closed Connection cannot be sent")
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(try carrier.append(fd), forKey: .descriptor)
        try container.encode(maximumFrameSize, forKey: .maximumFrameSize)
        try container.encode(isReadable, forKey: .isReadable)
        try container.encode(isWritable, forKey: .isWritable)
    }

    public convenience init(from decoder: any Decoder) throws {
        let carrier = try DescriptorCarrier.forDecoding(decoder, receiving: "a Connection")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let index = try container.decode(Int.self, forKey: .descriptor)
        let maximumFrameSize = try container.decode(Int.self, forKey: .maximumFrameSize)
        let readable = try container.decode(Bool.self, forKey: .isReadable)
        let writable = try container.decode(Bool.self, forKey: .isWritable)
        guard maximumFrameSize > 0 else {
            throw ConnectionError(.malformedFrame, "a received Connection has maximumFrameSize \(maximumFrameSize)")
        }
        self.init(
            adopting: try carrier.claim(index),
            readable: readable,
            writable: writable,
            maximumFrameSize: maximumFrameSize
        )
    }
}
