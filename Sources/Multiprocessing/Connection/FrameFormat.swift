// The frame format, free of I/O so the fuzzer can drive it (Fuzz/FuzzFrameReader.swift).
//
//     [UInt32 LE header][UInt8 descriptor count, only if header bit 31 is set][payload]
//
// The low 31 bits of the header are the payload length. A frame with descriptors was sent with
// SCM_RIGHTS ancillary data attached to its first byte.

/// Why a frame header is invalid.
enum FrameFormatError: Error, Equatable {
    case tooLarge(length: Int, maximum: Int)
    case malformed(String)
}

/// A parsed frame header.
struct FrameHeader: Equatable {
    /// Bytes before the payload: 4, or 5 when descriptors follow.
    var headerLength: Int
    var payloadLength: Int
    var descriptorCount: Int

    var frameLength: Int { headerLength + payloadLength }
}

enum FrameFormat {
    static let descriptorFlag: UInt32 = 1 << 31
    /// The kernel refuses more than this many descriptors in one message (SCM_MAX_FD).
    static let maximumDescriptorsPerFrame = 253
    /// The largest length bits can express.
    static let largestPayload = Int(Int32.max)
    /// Bytes reserved in front of a payload while encoding, before its header is known.
    static let reservedHeaderLength = 4

    /// Parses the header at the start of `bytes`; `nil` when more bytes are needed.
    static func parseHeader(
        _ bytes: UnsafeRawBufferPointer,
        maximumPayload: Int
    ) throws(FrameFormatError)
        -> FrameHeader?
    {
        guard bytes.count >= 4 else { return nil }
        let word = UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self))
        let length = Int(word & ~descriptorFlag)
        guard length <= maximumPayload else { throw .tooLarge(length: length, maximum: maximumPayload) }
        guard word & descriptorFlag != 0 else {
            return FrameHeader(headerLength: 4, payloadLength: length, descriptorCount: 0)
        }
        guard bytes.count >= 5 else { return nil }
        let count = Int(bytes[4])
        guard count > 0, count <= maximumDescriptorsPerFrame else {
            throw .malformed("descriptor count \(count) outside 1...\(maximumDescriptorsPerFrame)")
        }
        return FrameHeader(headerLength: 5, payloadLength: length, descriptorCount: count)
    }

    /// Fills in the header of a frame whose payload was encoded after `reservedHeaderLength` bytes
    /// at `frameStart`. A frame with descriptors gains its count byte after the length word (a
    /// rare path, so the move of the payload by one byte does not matter).
    static func writeHeader(in buffer: inout [UInt8], frameStart: Int, payloadLength: Int, descriptorCount: Int) {
        precondition(payloadLength <= largestPayload && descriptorCount <= maximumDescriptorsPerFrame)
        var word = UInt32(payloadLength)
        if descriptorCount > 0 {
            word |= descriptorFlag
            buffer.insert(UInt8(descriptorCount), at: frameStart + 4)
        }
        buffer.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: word.littleEndian, toByteOffset: frameStart, as: UInt32.self)
        }
    }
}
