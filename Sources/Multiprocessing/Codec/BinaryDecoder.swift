/// Decodes any `Decodable` value from bytes written by ``BinaryEncoder``.
///
/// This plays the role of Python's `pickle.loads`, but unlike pickle it is safe on untrusted input: it never runs
/// code named by the data, checks every read against the input's bounds, validates every length and count before
/// allocating, and limits nesting to ``maximumDepth``. Malformed input throws ``CodecError``; it never traps.
///
/// ```swift
/// let counts = try BinaryDecoder().decode([String: Int].self, from: bytes)
/// ```
public struct BinaryDecoder: Sendable {
    /// Values handed to every `init(from:)` as `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]
    /// How deeply containers may nest before decoding throws ``CodecError/Code/nestingTooDeep``, so that hostile
    /// input cannot exhaust the stack through a recursive type.
    ///
    /// Each level takes roughly 1 KiB of stack in optimized builds and 2 KiB in debug builds; lower the limit when
    /// decoding recursive types on threads with small stacks.
    public var maximumDepth: Int = 256

    /// Creates a decoder with empty ``userInfo`` and the default ``maximumDepth``.
    public init() {}

    /// Decodes a value of type `T` that must make up all of `bytes`, like `pickle.loads(bytes)`.
    ///
    /// - Throws: ``CodecError`` with code ``CodecError/Code/truncated``, ``CodecError/Code/typeMismatch``,
    ///   ``CodecError/Code/invalidValue``, ``CodecError/Code/keyNotFound``, ``CodecError/Code/valueNotFound``,
    ///   ``CodecError/Code/nestingTooDeep`` or ``CodecError/Code/trailingBytes``; or whatever error `T`'s own
    ///   `init(from:)` throws, such as `DecodingError`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// Decodes a value of type `T` that must make up all of `bytes`, reading the memory in place.
    ///
    /// `bytes` need only stay valid for the duration of the call (a `Decoder` must not be kept past `init(from:)`,
    /// as with any decoder).
    ///
    /// - Throws: ``CodecError`` with code ``CodecError/Code/truncated``, ``CodecError/Code/typeMismatch``,
    ///   ``CodecError/Code/invalidValue``, ``CodecError/Code/keyNotFound``, ``CodecError/Code/valueNotFound``,
    ///   ``CodecError/Code/nestingTooDeep`` or ``CodecError/Code/trailingBytes``; or whatever error `T`'s own
    ///   `init(from:)` throws, such as `DecodingError`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        var reader = ByteReader(bytes)
        let value: T
        var kind = ValueKind(primitive: T.self)
        if !kind.isPrimitive { kind = ValueKind.classify(T.self) }
        // Primitives, raw arrays and raw values never need the Decoder object, so they skip allocating one.
        if kind.isDirect {
            value = try reader.readDirect(kind, as: T.self)
        } else {
            let decoder = BinaryDecoderImpl(
                reader: reader,
                maximumDepth: maximumDepth,
                depth: 0,
                userInfo: userInfo,
                path: []
            )
            decoder.kindCache.insert(ObjectIdentifier(T.self), kind)
            // A Decoder kept by a misbehaving init(from:) must not read the caller's memory after we return.
            defer { decoder.reader = ByteReader(UnsafeRawBufferPointer(start: nil, count: 0)) }
            value = try decoder.decodeValue(T.self)
            reader = decoder.reader
        }
        guard reader.cursor == bytes.count else {
            throw CodecError(.trailingBytes, "\(bytes.count - reader.cursor) bytes left over after the value")
        }
        return value
    }
}

extension ByteReader {
    /// Reads a `T` whose kind is direct (primitive, raw array or raw value) without a Decoder. Mirrors
    /// `writeDirectly` case for case.
    @inline(__always)
    mutating func readDirect<T>(_ kind: ValueKind, as type: T.Type) throws -> T {
        switch kind {
        case .int:
            return unsafeBitCast(Int(Int64(bitPattern: try readTagged(.int64, byteCount: 8))), to: T.self)
        case .string:
            try expectTag(.string)
            return unsafeBitCast(try readStringBody(), to: T.self)
        case .double:
            return unsafeBitCast(try readTagged(.double, byteCount: 8), to: T.self)
        case .bool:
            return unsafeBitCast(try readBool(), to: T.self)
        case .int64:
            return unsafeBitCast(try readTagged(.int64, byteCount: 8), to: T.self)
        case .uint8:
            return unsafeBitCast(UInt8(truncatingIfNeeded: try readTagged(.uint8, byteCount: 1)), to: T.self)
        case .float:
            return unsafeBitCast(UInt32(truncatingIfNeeded: try readTagged(.float, byteCount: 4)), to: T.self)
        case .uint:
            return unsafeBitCast(UInt(try readTagged(.uint64, byteCount: 8)), to: T.self)
        case .uint64:
            return unsafeBitCast(try readTagged(.uint64, byteCount: 8), to: T.self)
        case .int32:
            return unsafeBitCast(UInt32(truncatingIfNeeded: try readTagged(.int32, byteCount: 4)), to: T.self)
        case .uint32:
            return unsafeBitCast(UInt32(truncatingIfNeeded: try readTagged(.uint32, byteCount: 4)), to: T.self)
        case .int16:
            return unsafeBitCast(UInt16(truncatingIfNeeded: try readTagged(.int16, byteCount: 2)), to: T.self)
        case .uint16:
            return unsafeBitCast(UInt16(truncatingIfNeeded: try readTagged(.uint16, byteCount: 2)), to: T.self)
        case .int8:
            return unsafeBitCast(UInt8(truncatingIfNeeded: try readTagged(.int8, byteCount: 1)), to: T.self)
        case .rawArray(let arrayType):
            return try arrayType.readRawArray(from: &self, as: T.self)
        case .raw(let bitwiseType):
            try expectTag(.raw)
            let size = try readLength(of: "raw value")
            guard size == MemoryLayout<T>.size else {
                throw CodecError(
                    .invalidValue,
                    "raw value of \(size) bytes, but \(T.self) has \(MemoryLayout<T>.size)"
                )
            }
            let start = cursor
            cursor &+= size
            // A tag and a length were read, so the input is not empty and `base` is not nil.
            return bitwiseType.loadRaw(from: base.unsafelyUnwrapped + start, as: T.self)
        case .byCodec, .conformance:
            preconditionFailure("readDirect called for a type without a direct representation")
        }
    }

    @inline(__always)
    mutating func readBool() throws -> Bool {
        let tag = try readByte()
        if tag == WireTag.trueValue.rawValue { return true }
        if tag == WireTag.falseValue.rawValue { return false }
        cursor &-= 1
        throw CodecError.mismatch(expected: "bool", found: tag)
    }
}

// The decoding half of `_CodecCodable`.

extension Array where Element: Codable {
    static func decodeByCodec<T>(from decoder: BinaryDecoderImpl, as type: T.Type) throws -> T {
        let container = try decoder.enterCodecContainer(.unkeyed)
        defer { decoder.leaveCodecContainer(container) }
        // Classified once for all elements. Arrays of the common non-bitwise primitives get a loop specialized for
        // them; any other element type runs the generic loop.
        let kind = decoder.kind(of: Element.self)
        switch kind {
        case .string:
            return unsafeBitCast(try decoder.decodeElements(String.self, kind, count: container.count), to: T.self)
        case .bool:
            return unsafeBitCast(try decoder.decodeElements(Bool.self, kind, count: container.count), to: T.self)
        default:
            return unsafeBitCast(try decoder.decodeElements(Element.self, kind, count: container.count), to: T.self)
        }
    }
}

extension Dictionary where Key == String, Value: Codable {
    static func decodeByCodec<T>(from decoder: BinaryDecoderImpl, as type: T.Type) throws -> T {
        let container = try decoder.enterCodecContainer(.keyed)
        defer { decoder.leaveCodecContainer(container) }
        // As for arrays: specialized loops for the common primitive values. This matters more here, because
        // dictionary insertions run from generic code look up type metadata each time.
        let kind = decoder.kind(of: Value.self)
        switch kind {
        case .int:
            return unsafeBitCast(try decoder.decodeEntries(Int.self, kind, count: container.count), to: T.self)
        case .string:
            return unsafeBitCast(try decoder.decodeEntries(String.self, kind, count: container.count), to: T.self)
        case .double:
            return unsafeBitCast(try decoder.decodeEntries(Double.self, kind, count: container.count), to: T.self)
        case .bool:
            return unsafeBitCast(try decoder.decodeEntries(Bool.self, kind, count: container.count), to: T.self)
        default:
            return unsafeBitCast(try decoder.decodeEntries(Value.self, kind, count: container.count), to: T.self)
        }
    }
}

extension BinaryDecoderImpl {
    /// Decodes the `count` elements of an unkeyed container, the first of which is at the cursor.
    func decodeElements<Element: Decodable>(_ type: Element.Type, _ kind: ValueKind, count: Int) throws -> [Element] {
        // The count was validated against the container's length, so this allocation is bounded by the input.
        try [Element](unsafeUninitializedCapacity: count) { elements, initializedCount in
            for index in 0..<count {
                let element: Element
                do {
                    element =
                        kind.isDirect
                        ? try reader.readDirect(kind, as: Element.self)
                        : try decodeIndirectly(Element.self, kind, extraPath: [], component: .index(index))
                } catch let error as CodecError where !error.isLocated {
                    throw locate(error, last: .index(index))
                }
                (elements.baseAddress.unsafelyUnwrapped + index).initialize(to: element)
                initializedCount = index + 1
            }
        }
    }

    /// Decodes the `count` entries of a keyed container into a dictionary; the first entry is at the cursor.
    func decodeEntries<Value: Decodable>(_ type: Value.Type, _ kind: ValueKind, count: Int) throws -> [String: Value] {
        var dictionary = [String: Value](minimumCapacity: count)
        for _ in 0..<count {
            let key = try reader.readStringBody()
            let value: Value
            do {
                value =
                    kind.isDirect
                    ? try reader.readDirect(kind, as: Value.self)
                    : try decodeIndirectly(
                        Value.self,
                        kind,
                        extraPath: [],
                        component: .key(BinaryCodingKey(stringValue: key))
                    )
            } catch let error as CodecError where !error.isLocated {
                throw locate(error, last: .key(BinaryCodingKey(stringValue: key)))
            }
            // Hostile input may repeat a key; the last value wins.
            dictionary.updateValue(value, forKey: key)
        }
        return dictionary
    }
}

extension Optional where Wrapped: Codable {
    static func decodeByCodec<T>(from decoder: BinaryDecoderImpl, as type: T.Type) throws -> T {
        // As Optional's own conformance does through a single-value container: nil, or the wrapped value.
        let value: Self
        if try decoder.reader.peekByte() == WireTag.null.rawValue {
            decoder.reader.cursor += 1
            value = .none
        } else {
            value = .some(try decoder.decodeValue(Wrapped.self))
        }
        return unsafeBitCast(value, to: T.self)
    }
}
