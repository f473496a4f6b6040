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
