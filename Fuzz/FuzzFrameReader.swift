// libFuzzer target for the frame parser: the input is a byte stream as a peer might send it.
// Each header must parse, ask for more bytes, or throw FrameFormatError; nothing may crash, and a
// parsed frame must lie inside what its header claims. Built by Fuzz/run.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let maximumPayload = 1 << 16
    var offset = 0
    while offset < bytes.count {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        let header: FrameHeader?
        do {
            header = try FrameFormat.parseHeader(rest, maximumPayload: maximumPayload)
        } catch {
            return 0  // rejected: the connection would report it and stop
        }
        guard let header else { return 0 }  // needs more bytes
        precondition(header.payloadLength <= maximumPayload)
        precondition(header.headerLength == (header.descriptorCount > 0 ? 5 : 4))
        precondition(header.descriptorCount <= FrameFormat.maximumDescriptorsPerFrame)
        guard rest.count >= header.frameLength else { return 0 }
        // A well-formed header rebuilt from the parsed fields must parse to the same header.
        var rebuilt = [UInt8](repeating: 0, count: FrameFormat.reservedHeaderLength)
        FrameFormat.writeHeader(
            in: &rebuilt,
            frameStart: 0,
            payloadLength: header.payloadLength,
            descriptorCount: header.descriptorCount
        )
        let again = try? rebuilt.withUnsafeBytes { try FrameFormat.parseHeader($0, maximumPayload: maximumPayload) }
        precondition(again == header)
        offset += header.frameLength
    }
    return 0
}
