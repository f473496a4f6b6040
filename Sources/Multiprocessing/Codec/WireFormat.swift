// The byte-level layout shared by BinaryEncoder and BinaryDecoder: tags and container headers. ByteSink.swift
// writes values (varints included) and ByteReader.swift reads them with bounds checks. README.md in this directory
// describes the format in prose.

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
