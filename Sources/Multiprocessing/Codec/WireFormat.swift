// The byte-level layout shared by BinaryEncoder and BinaryDecoder: tags, varints, container headers, and a
// bounds-checked reader. README.md in this directory describes the format in prose.

/// The one-byte tag that precedes every value on the wire.
enum WireTag: UInt8 {
    // Grouped with gaps so that a stray byte is usually not a tag at all (reported as an invalid value rather than
    // as a type mismatch), and so later tags can join their group.
    case null = 0x00
    case falseValue = 0x01
    case trueValue = 0x02
    case empty = 0x03
    case int8 = 0x10
    case int16 = 0x11
    case int32 = 0x12
    case int64 = 0x13
    case uint8 = 0x18
    case uint16 = 0x19
    case uint32 = 0x1A
    case uint64 = 0x1B
    case float = 0x20
    case double = 0x21
    case string = 0x30
    case raw = 0x40
    case rawArray = 0x41
    case keyed = 0x50
    case unkeyed = 0x51

    /// The name used in error messages.
    var name: String {
        switch self {
        case .null: "nil"
        case .falseValue, .trueValue: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float: "float"
        case .double: "double"
        case .string: "string"
        case .raw: "raw value"
        case .rawArray: "raw array"
        case .keyed: "keyed container"
        case .unkeyed: "unkeyed container"
        case .empty: "empty value"
        }
    }
}

/// Layout of a keyed or unkeyed container header: tag, UInt64 length of what follows the length field, UInt32
/// entry count. Fixed widths (not varints) so the encoder can patch them in place once the contents are known.
enum ContainerHeader {
    /// Offset of the UInt64 length from the tag.
    static let lengthOffset = 1
    /// Offset of the UInt32 entry count from the tag.
    static let countOffset = 9
    /// Total header size; the first entry starts here.
    static let size = 13
}

// MARK: - Writing

/// Where encoded bytes go: the caller's `[UInt8]` for values written without an Encoder, or the Encoder's own
/// buffer. Code is generic over the sink only, never over the value's type, so every use is specialized (the codec
/// mostly runs unspecialized, reached from other modules through generic entry points).
protocol ByteSink {
    mutating func appendByte(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
    /// Appends `tag` followed by the low `byteCount` bytes of `bits`, little-endian.
    mutating func appendTagged(_ tag: WireTag, bits: UInt64, byteCount: Int)
    /// Appends `value` as an unsigned LEB128 varint: 7 bits a byte, low bits first, high bit set on all but the
    /// last byte.
    mutating func appendVarint(_ value: UInt64)
}

extension ByteSink {
    /// Appends a string tag, the UTF-8 byte count and the bytes.
    @inline(__always)
    mutating func appendString(_ string: String) {
        appendByte(WireTag.string.rawValue)
        appendStringBody(string)
    }

    /// Appends a varint UTF-8 byte count and the bytes (the layout of strings and of keys).
    @inline(__always)
    mutating func appendStringBody(_ string: String) {
        // Native strings lend their UTF-8 without a copy; others (bridged ones) are made contiguous first.
        let appended: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            appendVarint(UInt64(utf8.count))
            appendBytes(UnsafeRawBufferPointer(utf8))
        }
        if appended == nil {
            var string = string
            string.withUTF8 { utf8 in
                appendVarint(UInt64(utf8.count))
                appendBytes(UnsafeRawBufferPointer(utf8))
            }
        }
    }
}

extension Array: ByteSink where Element == UInt8 {
    @inline(__always)
    mutating func appendByte(_ byte: UInt8) {
        append(byte)
    }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes)
    }

    @inline(__always)
    mutating func appendTagged(_ tag: WireTag, bits: UInt64, byteCount: Int) {
        // Tag and value laid out in two words, little-endian, so that one append does it.
        var words = ((UInt64(tag.rawValue) | bits << 8).littleEndian, (bits >> 56).littleEndian)
        Swift.withUnsafeBytes(of: &words) {
            append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<(1 + byteCount)]))
        }
    }

    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        append(UInt8(truncatingIfNeeded: value))
    }
}

// MARK: - Reading

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

// MARK: - UTF-8

/// Makes a String from `bytes` if they are well-formed UTF-8, or returns nil (never repairs, unlike
/// `String(decoding:as:)` alone, so corrupt input is reported instead of silently changed).
@inline(__always)
func makeString(validating bytes: UnsafeRawBufferPointer) -> String? {
    // Not `String(validating:as:)`: it runs generic over the encoding and looks up type metadata on every call,
    // which costs more than the validation. `String(decoding:as: UTF8.self)` on valid input is a fast copy.
    guard isValidUTF8(bytes) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// Checks well-formed UTF-8 per Unicode table 3-7: no overlong forms, surrogates, or code points above U+10FFFF.
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let count = bytes.count
    var index = 0
    @inline(__always) func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
    @inline(__always) func isContinuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
        offset < count && byte(offset) >= low && byte(offset) <= high
    }
    while index < count {
        // ASCII eight bytes at a time.
        if index + 8 <= count,
            base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
        {
            index += 8
            continue
        }
        let lead = byte(index)
        if lead < 0x80 {
            index += 1
        } else if lead < 0xC2 {
            return false
        } else if lead < 0xE0 {
            guard isContinuation(index + 1) else { return false }
            index += 2
        } else if lead < 0xF0 {
            let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
            guard isContinuation(index + 1, low, high), isContinuation(index + 2) else { return false }
            index += 3
        } else if lead < 0xF5 {
            let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            guard isContinuation(index + 1, low, high), isContinuation(index + 2), isContinuation(index + 3) else {
                return false
            }
            index += 4
        } else {
            return false
        }
    }
    return true
}

// MARK: - Value kinds

/// How the codec writes values of a type: directly (primitives, raw arrays, raw values), with its own code for a
/// few standard-library generics (same bytes as their Codable conformances, but without their per-element
/// overhead), or through the type's own Codable conformance.
///
/// The encoder and decoder classify every type with the same tests in the same order, so they always agree.
enum ValueKind {
    case int, string, double, bool, int64, uint8, float, uint, uint64, int32, uint32, int16, uint16, int8
    /// An array of ``BitwiseCodable`` elements, copied in one piece.
    case rawArray(any _BitwiseCodableArray.Type)
    /// A ``BitwiseCodable`` value that is not one of the primitives above, copied as its bytes.
    case raw(any BitwiseCodable.Type)
    /// An array, string-keyed dictionary or optional the codec reads and writes with its own loop.
    case byCodec(any _CodecCodable.Type)
    /// Anything else: coded through its own `encode(to:)` / `init(from:)`.
    case conformance

    /// The kind of a primitive type, or `.conformance` for any other type (whose conformances are not checked
    /// here). Metatype comparisons fold to a constant when `T` is known at compile time and cost a pointer compare
    /// each otherwise.
    @inline(__always)
    init<T>(primitive type: T.Type) {
        // Most frequent first: the order matters only when `T` is not known at compile time.
        if T.self == Int.self {
            self = .int
        } else if T.self == String.self {
            self = .string
        } else if T.self == Double.self {
            self = .double
        } else if T.self == Bool.self {
            self = .bool
        } else if T.self == Int64.self {
            self = .int64
        } else if T.self == UInt8.self {
            self = .uint8
        } else if T.self == Float.self {
            self = .float
        } else if T.self == UInt.self {
            self = .uint
        } else if T.self == UInt64.self {
            self = .uint64
        } else if T.self == Int32.self {
            self = .int32
        } else if T.self == UInt32.self {
            self = .uint32
        } else if T.self == Int16.self {
            self = .int16
        } else if T.self == UInt16.self {
            self = .uint16
        } else if T.self == Int8.self {
            self = .int8
        } else {
            self = .conformance
        }
    }

    /// The kind of a type that is not a primitive. Conformance tests are lookups in the runtime (tens of
    /// nanoseconds each), hence the layout pre-checks and `KindCache`.
    static func classify<T>(_ type: T.Type) -> ValueKind {
        // Cheap layout tests first rule out most types without a lookup: the `_CodecCodable` types are optionals
        // and structs holding one reference (Array, Dictionary), and BitwiseCopyable types are trivial.
        let oneReference = MemoryLayout<T>.size == MemoryLayout<Int>.size && !_isPOD(T.self)
        if _isOptional(T.self) || oneReference, let codecType = T.self as? any _CodecCodable.Type {
            return codecType.codecKind
        }
        if _isPOD(T.self), let bitwiseType = T.self as? any BitwiseCodable.Type { return .raw(bitwiseType) }
        return .conformance
    }

    /// Whether the type is one of the primitives.
    @inline(__always)
    var isPrimitive: Bool {
        switch self {
        case .rawArray, .raw, .byCodec, .conformance: false
        default: true
        }
    }

    /// Whether values are written without any Encoder or Decoder (primitives, raw arrays, raw values).
    @inline(__always)
    var isDirect: Bool {
        switch self {
        case .byCodec, .conformance: false
        default: true
        }
    }
}

/// Standard-library generics the codec reads and writes with its own loops rather than their Codable
/// conformances, which run unspecialized and look up type metadata for every element. The bytes are exactly what
/// the conformances produce and accept, so either route may meet the other on the wire. (Arrays whose elements
/// are only Encodable or only Decodable keep using the conformances; that is fine for the same reason.)
protocol _CodecCodable {
    /// How values of this type are coded: `.byCodec(Self.self)`, or `.rawArray` for arrays of bitwise elements.
    static var codecKind: ValueKind { get }
    /// Encodes `value` (which is `Self`) at the end of the encoder's buffer.
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws
    /// Decodes a `Self` at the decoder's cursor and returns it as `T` (which is `Self`).
    static func decodeByCodec<T>(from decoder: BinaryDecoderImpl, as type: T.Type) throws -> T
}

extension _CodecCodable {
    static var codecKind: ValueKind { .byCodec(Self.self) }
}

extension Array: _CodecCodable where Element: Codable {
    static var codecKind: ValueKind {
        // Checked only for arrays, so plain structs do not pay for this conformance lookup.
        if let rawType = Self.self as? any _BitwiseCodableArray.Type { return .rawArray(rawType) }
        return .byCodec(Self.self)
    }
}

extension Dictionary: _CodecCodable where Key == String, Value: Codable {}

extension Optional: _CodecCodable where Wrapped: Codable {}

/// Remembers the kinds of the last four non-primitive types seen by one encoder or decoder: each conformance test
/// costs a hash lookup in the runtime (tens of nanoseconds), and a payload usually repeats a few types many times.
struct KindCache {
    private var ids: (ObjectIdentifier?, ObjectIdentifier?, ObjectIdentifier?, ObjectIdentifier?)
    private var kinds: (ValueKind, ValueKind, ValueKind, ValueKind)
    private var next = 0

    init() {
        ids = (nil, nil, nil, nil)
        kinds = (.conformance, .conformance, .conformance, .conformance)
    }

    @inline(__always)
    func lookUp(_ id: ObjectIdentifier) -> ValueKind? {
        if ids.0 == id { return kinds.0 }
        if ids.1 == id { return kinds.1 }
        if ids.2 == id { return kinds.2 }
        if ids.3 == id { return kinds.3 }
        return nil
    }

    mutating func insert(_ id: ObjectIdentifier, _ kind: ValueKind) {
        switch next {
        case 0: (ids.0, kinds.0) = (id, kind)
        case 1: (ids.1, kinds.1) = (id, kind)
        case 2: (ids.2, kinds.2) = (id, kind)
        default: (ids.3, kinds.3) = (id, kind)
        }
        next = (next + 1) & 3
    }
}

// MARK: - Coding paths

/// `userInfo` as the `Encoder`/`Decoder` protocols want it.
func erasedUserInfo(_ userInfo: [CodingUserInfoKey: any Sendable]) -> [CodingUserInfoKey: Any] {
    userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
}

/// One step of a coding path, kept cheaply while coding and turned into `[any CodingKey]` only when asked.
enum PathComponent {
    case key(any CodingKey)
    case index(Int)

    var codingKey: any CodingKey {
        switch self {
        case .key(let key): key
        case .index(let index): BinaryCodingKey(index: index)
        }
    }
}

extension Array where Element == PathComponent {
    /// The path in words for error messages, such as `items[3].name`.
    var pathDescription: String {
        var text = ""
        for component in self {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key.stringValue
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }
}

/// The coding key the codec makes up itself: `super`, dictionary keys, array indices in coding paths.
///
/// Three words, so an `any CodingKey` holding it needs no heap box.
struct BinaryCodingKey: CodingKey {
    let stringValue: String
    /// `intValue`, or `Int.min` for none (an `Int?` would make the struct one byte too large for inline storage).
    private let storedInt: Int

    var intValue: Int? { storedInt == Int.min ? nil : storedInt }

    init(stringValue: String) {
        self.stringValue = stringValue
        storedInt = Int.min
    }

    init(intValue: Int) {
        stringValue = "\(intValue)"
        storedInt = intValue
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        storedInt = index
    }

    static let superKey = BinaryCodingKey(stringValue: "super")
}
