/// A cursor over untrusted bytes: every read is checked against `limit` and throws instead of trapping.
///
/// `limit` is the end of the innermost container being decoded, so a value can never read past the container that
/// holds it.
struct ByteReader {
    /// The start of the input; nil only when the input is empty (then `limit` is 0 and no read reaches it).
    var base: UnsafeRawPointer?
    /// Offset of the next byte to read.
    var cursor: Int
    /// Offset one past the last readable byte.
    var limit: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress
        cursor = 0
        limit = bytes.count
    }

    /// Bytes left before `limit`.
    @inline(__always)
    var remaining: Int { limit &- cursor }

    /// The tag at the cursor, without consuming it.
    @inline(__always)
    func peekByte() throws -> UInt8 {
        guard cursor < limit else { throw CodecError(.truncated, "input ended where a value was expected") }
        return base.unsafelyUnwrapped.load(fromByteOffset: cursor, as: UInt8.self)
    }

    @inline(__always)
    mutating func readByte() throws -> UInt8 {
        let byte = try peekByte()
        cursor &+= 1
        return byte
    }

    /// Reads a little-endian UInt64.
    @inline(__always)
    mutating func readUInt64() throws -> UInt64 {
        guard remaining >= 8 else { throw CodecError(.truncated, "input ended inside an 8-byte number") }
        let value = base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: cursor, as: UInt64.self)
        cursor &+= 8
        return UInt64(littleEndian: value)
    }

    /// Reads a little-endian UInt32.
    @inline(__always)
    mutating func readUInt32() throws -> UInt32 {
        guard remaining >= 4 else { throw CodecError(.truncated, "input ended inside a 4-byte number") }
        let value = base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: cursor, as: UInt32.self)
        cursor &+= 4
        return UInt32(littleEndian: value)
    }

    /// Reads `tag` followed by a little-endian number of `byteCount` (1, 2, 4 or 8) bytes, returned zero-extended.
    @inline(__always)
    mutating func readTagged(_ tag: WireTag, byteCount: Int) throws -> UInt64 {
        // One bounds check and one compare in the common case; the error path is out of line.
        guard remaining > byteCount,
            base.unsafelyUnwrapped.load(fromByteOffset: cursor, as: UInt8.self) == tag.rawValue
        else { throw taggedError(tag, byteCount: byteCount) }
        let bytes = base.unsafelyUnwrapped + (cursor &+ 1)
        let bits: UInt64
        switch byteCount {
        case 1: bits = UInt64(bytes.load(as: UInt8.self))
        case 2: bits = UInt64(UInt16(littleEndian: bytes.loadUnaligned(as: UInt16.self)))
        case 4: bits = UInt64(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        default: bits = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        }
        cursor &+= 1 &+ byteCount
        return bits
    }

    private func taggedError(_ tag: WireTag, byteCount: Int) -> CodecError {
        guard cursor < limit else { return CodecError(.truncated, "input ended where \(tag.name) was expected") }
        let found = base.unsafelyUnwrapped.load(fromByteOffset: cursor, as: UInt8.self)
        guard found == tag.rawValue else { return CodecError.mismatch(expected: tag.name, found: found) }
        return CodecError(.truncated, "input ended inside \(tag.name)")
    }

    /// Consumes a tag and checks that it is `expected`.
    @inline(__always)
    mutating func expectTag(_ expected: WireTag) throws {
        let tag = try readByte()
        guard tag == expected.rawValue else {
            cursor &-= 1
            throw CodecError.mismatch(expected: expected.name, found: tag)
        }
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes that fits in 64 bits.
    @inline(__always)
    mutating func readVarint() throws -> UInt64 {
        let first = try readByte()
        if first < 0x80 { return UInt64(first) }
        return try readVarintSlow(first)
    }

    private mutating func readVarintSlow(_ first: UInt8) throws -> UInt64 {
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 {
                throw CodecError(.invalidValue, "varint overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    /// Reads a varint length and checks that that many bytes remain, so no caller allocates for bytes that are
    /// not there.
    @inline(__always)
    mutating func readLength(of what: String) throws -> Int {
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            throw CodecError(.invalidValue, "\(what) length \(length) exceeds the \(remaining) bytes left")
        }
        return Int(length)
    }

    /// Consumes `count` bytes (already checked to remain) and returns them.
    @inline(__always)
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let bytes = UnsafeRawBufferPointer(start: base.map { $0 + cursor }, count: count)
        cursor &+= count
        return bytes
    }

    /// Reads a string body (varint length and UTF-8 bytes), validating the UTF-8.
    mutating func readStringBody() throws -> String {
        let length = try readLength(of: "string")
        guard let string = makeString(validating: take(length)) else {
            throw CodecError(.invalidValue, "string is not valid UTF-8")
        }
        return string
    }

    /// Reads a key (varint length and UTF-8 bytes) and reports whether its bytes equal `key`'s UTF-8, without
    /// creating a String.
    @inline(__always)
    mutating func readKey(matching key: inout String) throws -> Bool {
        let length = try readLength(of: "key")
        let bytes = take(length)
        return key.withUTF8 { utf8 in
            utf8.count == length && (length == 0 || memoryEqual(bytes.baseAddress!, utf8.baseAddress!, length))
        }
    }

    /// Reads a container header of kind `tag` (or an empty value, which stands for an empty container) and returns
    /// its entry count, the offset of its first entry and its end, all validated against `limit`.
    mutating func readContainerHeader(
        _ tag: WireTag,
        minimumEntrySize: Int
    ) throws -> (count: Int, bodyStart: Int, end: Int) {
        let found = try readByte()
        if found == WireTag.empty.rawValue { return (0, cursor, cursor) }
        guard found == tag.rawValue else {
            cursor &-= 1
            throw CodecError.mismatch(expected: tag.name, found: found)
        }
        let length = try readUInt64()
        guard length >= 4, length <= UInt64(remaining) else {
            throw CodecError(.invalidValue, "\(tag.name) length \(length) does not fit the \(remaining) bytes left")
        }
        let end = cursor + Int(length)
        let count = Int(try readUInt32())
        guard count <= (end - cursor) / minimumEntrySize else {
            throw CodecError(.invalidValue, "\(tag.name) claims \(count) entries in \(end - cursor) bytes")
        }
        return (count, cursor, end)
    }

    /// Skips one complete value of any type. Iterative, O(1) for every kind: containers are skipped by their length.
    mutating func skipValue() throws {
        let start = cursor
        let tag = try readByte()
        guard let kind = WireTag(rawValue: tag) else {
            cursor = start
            throw CodecError(.invalidValue, "unknown tag \(tag)")
        }
        let size: Int
        switch kind {
        case .null, .falseValue, .trueValue, .empty: return
        case .int8, .uint8: size = 1
        case .int16, .uint16: size = 2
        case .int32, .uint32, .float: size = 4
        case .int64, .uint64, .double: size = 8
        case .string, .raw: size = try readLength(of: kind.name)
        case .rawArray:
            size = try readRawArrayByteCount()
        case .keyed, .unkeyed:
            let length = try readUInt64()
            guard length >= 4, length <= UInt64(remaining) else {
                throw CodecError(.invalidValue, "\(kind.name) length \(length) exceeds the \(remaining) bytes left")
            }
            size = Int(length)
        }
        guard size <= remaining else {
            throw CodecError(.truncated, "input ended inside a \(kind.name)")
        }
        cursor &+= size
    }

    /// Reads a raw array's count and element size (after its tag) and returns its validated byte count.
    mutating func readRawArrayByteCount(expectedStride: Int? = nil) throws -> Int {
        let count = try readVarint()
        let elementSize = try readVarint()
        if let expectedStride, elementSize != UInt64(expectedStride) {
            throw CodecError(.invalidValue, "raw array element size \(elementSize), expected \(expectedStride)")
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, byteCount <= UInt64(remaining) else {
            throw CodecError(
                .invalidValue,
                "raw array of \(count) × \(elementSize) bytes exceeds the \(remaining) bytes left"
            )
        }
        return Int(byteCount)
    }
}

extension CodecError {
    /// The error for a tag that is not the requested type's: no value if it is nil, a type mismatch if it is
    /// another type's tag, an invalid value if it is no tag at all.
    static func mismatch(expected: String, found tag: UInt8) -> Self {
        guard let found = WireTag(rawValue: tag) else {
            return CodecError(.invalidValue, "expected \(expected), found byte \(tag), which is not a type tag")
        }
        if found == .null { return CodecError(.valueNotFound, "expected \(expected), found nil") }
        return CodecError(.typeMismatch, "expected \(expected), found \(found.name)")
    }
}

/// Compares `count` bytes; a plain loop, because keys are short and the library avoids libc.
@inline(__always)
func memoryEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Bool {
    var index = 0
    while index &+ 8 <= count {
        if lhs.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            != rhs.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        {
            return false
        }
        index &+= 8
    }
    while index < count {
        if lhs.load(fromByteOffset: index, as: UInt8.self) != rhs.load(fromByteOffset: index, as: UInt8.self) {
            return false
        }
        index &+= 1
    }
    return true
}
