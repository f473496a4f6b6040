/// A bare descriptor inside a `Codable` message, sent with its frame (`SCM_RIGHTS`): how the fork
/// server receives a new worker's ends and hands back its pidfd.
///
/// Sending keeps the sender's descriptor open (the kernel duplicates it in transit); the receiver
/// owns the new number and must close it.
struct PassedDescriptor: Codable, Sendable {
    let rawValue: CInt

    init(_ rawValue: CInt) {
        self.rawValue = rawValue
    }

    func encode(to encoder: any Encoder) throws {
        let carrier = try DescriptorCarrier.forEncoding(encoder, sending: "a descriptor", value: rawValue)
        var container = encoder.singleValueContainer()
        try container.encode(try carrier.append(rawValue))
    }

    init(from decoder: any Decoder) throws {
        let carrier = try DescriptorCarrier.forDecoding(decoder, receiving: "a descriptor")
        rawValue = try carrier.claim(try decoder.singleValueContainer().decode(Int.self))
    }
}
