/// Encodes any `Encodable` value into the library's compact, self-describing binary format.
///
/// This plays the role of Python's `pickle.dumps` for values sent between processes. Integers, floating-point
/// numbers, `Bool` and `String` are written directly, arrays of ``BitwiseCodable`` elements (such as `[Int]` or
/// `[UInt8]`) with one memory copy, and everything else through its `encode(to:)`. The format is described in
/// `Sources/Multiprocessing/Codec/README.md`; decode it with ``BinaryDecoder``.
///
/// ```swift
/// let bytes = try BinaryEncoder().encode(["a": 1, "b": 2])
/// ```
public struct BinaryEncoder: Sendable {
    /// Values handed to every `encode(to:)` as `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates an encoder with empty ``userInfo``.
    public init() {}

    /// Encodes `value` into a new byte array, like `pickle.dumps(value)`.
    ///
    /// - Throws: ``CodecError`` with code ``CodecError/Code/unsupported`` if the value uses the `Encoder` API in a
    ///   way the format cannot express, or whatever error the value's own `encode(to:)` throws.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, into: &bytes)
        return bytes
    }

    /// Appends the encoding of `value` to `buffer`, so callers can add a frame header first or reuse a buffer.
    ///
    /// On error `buffer` is left as it was.
    ///
    /// - Throws: ``CodecError`` with code ``CodecError/Code/unsupported`` if the value uses the `Encoder` API in a
    ///   way the format cannot express, or whatever error the value's own `encode(to:)` throws.
    public func encode<T: Encodable>(_ value: T, into buffer: inout [UInt8]) throws {
        var kind = ValueKind(primitive: T.self)
        if !kind.isPrimitive { kind = ValueKind.classify(T.self) }
        // Primitives, raw arrays and raw values need no Encoder object: they go straight into `buffer`.
        if kind.isDirect {
            // A fresh array would otherwise grow twice for a tag and a few bytes.
            if buffer.capacity == 0 { buffer.reserveCapacity(16) }
            _ = writeDirectly(value, kind, into: &buffer)
            return
        }
        // Everything else is built in the encoder's own buffer, on the stack while it fits, and copied out once
        // (into a fresh array at its exact size).
        try withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 16) { stack in
            let encoder = BinaryEncoderImpl(storage: stack, userInfo: userInfo, path: [])
            defer { encoder.dropBorrowedStorage() }
            encoder.kindCache.insert(ObjectIdentifier(T.self), kind)
            try encoder.encodeIndirectly(value, kind, component: nil)
            buffer.append(contentsOf: encoder.writtenBytes)
        }
    }
}

/// Writes `value` if its kind has a direct representation (primitive, raw array, raw value) and returns true;
/// returns false for every other kind.
@inline(__always)
func writeDirectly<T: Encodable, Sink: ByteSink>(_ value: T, _ kind: ValueKind, into sink: inout Sink) -> Bool {
    guard kind.isDirect else { return false }
    withUnsafePointer(to: value) { pointer in
        writeDirectly(at: UnsafeRawPointer(pointer), kind, size: MemoryLayout<T>.size, into: &sink)
    }
    return true
}

/// Writes the direct-kind value at `pointer`. Not generic over the value's type, so it is specialized for each sink
/// even where the value's type is only known at run time; values are read in place, without copies or retains.
@inline(__always)
func writeDirectly<Sink: ByteSink>(at pointer: UnsafeRawPointer, _ kind: ValueKind, size: Int, into sink: inout Sink) {
    switch kind {
    case .int, .int64:
        sink.appendTagged(.int64, bits: pointer.loadUnaligned(as: UInt64.self), byteCount: 8)
    case .string:
        sink.appendString(pointer.assumingMemoryBound(to: String.self).pointee)
    case .double:
        sink.appendTagged(.double, bits: pointer.loadUnaligned(as: UInt64.self), byteCount: 8)
    case .bool:
        sink.appendByte(pointer.load(as: Bool.self) ? WireTag.trueValue.rawValue : WireTag.falseValue.rawValue)
    case .uint8:
        sink.appendTagged(.uint8, bits: UInt64(pointer.load(as: UInt8.self)), byteCount: 1)
    case .float:
        sink.appendTagged(.float, bits: UInt64(pointer.loadUnaligned(as: UInt32.self)), byteCount: 4)
    case .uint, .uint64:
        sink.appendTagged(.uint64, bits: pointer.loadUnaligned(as: UInt64.self), byteCount: 8)
    case .int32:
        sink.appendTagged(.int32, bits: UInt64(pointer.loadUnaligned(as: UInt32.self)), byteCount: 4)
    case .uint32:
        sink.appendTagged(.uint32, bits: UInt64(pointer.loadUnaligned(as: UInt32.self)), byteCount: 4)
    case .int16:
        sink.appendTagged(.int16, bits: UInt64(pointer.loadUnaligned(as: UInt16.self)), byteCount: 2)
    case .uint16:
        sink.appendTagged(.uint16, bits: UInt64(pointer.loadUnaligned(as: UInt16.self)), byteCount: 2)
    case .int8:
        sink.appendTagged(.int8, bits: UInt64(pointer.load(as: UInt8.self)), byteCount: 1)
    case .rawArray(let arrayType):
        arrayType.appendRawArray(at: pointer, to: &sink)
    case .raw:
        sink.appendByte(WireTag.raw.rawValue)
        sink.appendVarint(UInt64(size))
        sink.appendBytes(UnsafeRawBufferPointer(start: pointer, count: size))
    case .byCodec, .conformance:
        preconditionFailure("writeDirectly called for a value without a direct representation")
    }
}

// The encoding half of `_CodecCodable`.

extension Array where Element: Codable {
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws {
        try withUnsafePointer(to: value) { pointer in
            let array = UnsafeRawPointer(pointer).assumingMemoryBound(to: Self.self)
            let header = try encoder.appendContainerHeader(.unkeyed, count: array.pointee.count)
            // Classified once for all elements; direct elements then cost a switch and a few stores each.
            let kind = encoder.kind(of: Element.self)
            try array.pointee.withUnsafeBufferPointer { elements in
                if kind.isDirect {
                    var sink = encoder
                    for index in elements.indices {
                        writeDirectly(
                            at: UnsafeRawPointer(elements.baseAddress.unsafelyUnwrapped + index),
                            kind,
                            size: MemoryLayout<Element>.size,
                            into: &sink
                        )
                    }
                } else {
                    for index in elements.indices {
                        try encoder.encodeIndirectly(elements[index], kind, component: .index(index))
                    }
                }
            }
            encoder.patchLength(header)
        }
    }
}

extension Dictionary where Key == String, Value: Codable {
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws {
        let dictionary = unsafeBitCast(value, to: Self.self)
        let kind = encoder.kind(of: Value.self)
        // Iterating a dictionary from generic code looks up type metadata per element, so the common primitive
        // values get a specialized loop.
        switch kind {
        case .int: try encoder.encodeEntries(unsafeBitCast(dictionary, to: [String: Int].self), kind)
        case .string: try encoder.encodeEntries(unsafeBitCast(dictionary, to: [String: String].self), kind)
        case .double: try encoder.encodeEntries(unsafeBitCast(dictionary, to: [String: Double].self), kind)
        case .bool: try encoder.encodeEntries(unsafeBitCast(dictionary, to: [String: Bool].self), kind)
        default: try encoder.encodeEntries(dictionary, kind)
        }
    }
}

extension BinaryEncoderImpl {
    /// Writes `dictionary` as a keyed container.
    func encodeEntries<Value: Encodable>(_ dictionary: [String: Value], _ kind: ValueKind) throws {
        let header = try appendContainerHeader(.keyed, count: dictionary.count)
        var sink = self
        for (key, element) in dictionary {
            sink.appendStringBody(key)
            if !writeDirectly(element, kind, into: &sink) {
                try encodeIndirectly(element, kind, component: .key(BinaryCodingKey(stringValue: key)))
            }
        }
        patchLength(header)
    }
}

extension Optional where Wrapped: Codable {
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws {
        // As Optional's own conformance does through a single-value container: nil, or the wrapped value.
        if let wrapped = unsafeBitCast(value, to: Self.self) {
            try encoder.encodeValue(wrapped)
        } else {
            encoder.appendByte(WireTag.null.rawValue)
        }
    }
}
