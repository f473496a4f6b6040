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
        // Small values then need exactly one allocation; large ones grow geometrically as usual.
        bytes.reserveCapacity(32)
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
        // Primitives, raw arrays and raw values never need the Encoder object, so they skip allocating one.
        if writeDirectly(value, ValueKind(primitive: T.self), into: &buffer) { return }
        let kind = ValueKind.classify(T.self)
        if writeDirectly(value, kind, into: &buffer) { return }
        let start = buffer.count
        let encoder = BinaryEncoderImpl(userInfo: erasedUserInfo(userInfo), path: [])
        encoder.kindCache.insert(ObjectIdentifier(T.self), kind)
        swap(&encoder.buffer, &buffer)
        defer { swap(&encoder.buffer, &buffer) }
        do {
            try encoder.encodeValue(value)
        } catch {
            encoder.buffer.removeSubrange(start...)
            throw error
        }
    }
}

/// Writes `value` if its kind has a direct representation (primitive, raw array, raw value) and returns true;
/// returns false for every other kind.
@inline(__always)
func writeDirectly<T: Encodable>(_ value: T, _ kind: ValueKind, into buffer: inout [UInt8]) -> Bool {
    switch kind {
    case .int:
        buffer.appendTagged(.int64, bits: UInt64(bitPattern: Int64(unsafeBitCast(value, to: Int.self))), byteCount: 8)
    case .string:
        buffer.appendString(unsafeBitCast(value, to: String.self))
    case .double:
        buffer.appendTagged(.double, bits: unsafeBitCast(value, to: UInt64.self), byteCount: 8)
    case .bool:
        buffer.append(unsafeBitCast(value, to: Bool.self) ? WireTag.trueValue.rawValue : WireTag.falseValue.rawValue)
    case .int64:
        buffer.appendTagged(.int64, bits: unsafeBitCast(value, to: UInt64.self), byteCount: 8)
    case .uint8:
        buffer.appendTagged(.uint8, bits: UInt64(unsafeBitCast(value, to: UInt8.self)), byteCount: 1)
    case .float:
        buffer.appendTagged(.float, bits: UInt64(unsafeBitCast(value, to: UInt32.self)), byteCount: 4)
    case .uint:
        buffer.appendTagged(.uint64, bits: UInt64(unsafeBitCast(value, to: UInt.self)), byteCount: 8)
    case .uint64:
        buffer.appendTagged(.uint64, bits: unsafeBitCast(value, to: UInt64.self), byteCount: 8)
    case .int32:
        buffer.appendTagged(.int32, bits: UInt64(unsafeBitCast(value, to: UInt32.self)), byteCount: 4)
    case .uint32:
        buffer.appendTagged(.uint32, bits: UInt64(unsafeBitCast(value, to: UInt32.self)), byteCount: 4)
    case .int16:
        buffer.appendTagged(.int16, bits: UInt64(unsafeBitCast(value, to: UInt16.self)), byteCount: 2)
    case .uint16:
        buffer.appendTagged(.uint16, bits: UInt64(unsafeBitCast(value, to: UInt16.self)), byteCount: 2)
    case .int8:
        buffer.appendTagged(.int8, bits: UInt64(unsafeBitCast(value, to: UInt8.self)), byteCount: 1)
    case .rawArray(let arrayType):
        arrayType.appendRawArray(value, to: &buffer)
    case .raw:
        buffer.append(WireTag.raw.rawValue)
        buffer.appendVarint(UInt64(MemoryLayout<T>.size))
        withUnsafeBytes(of: value) { buffer.append(contentsOf: $0) }
    case .byCodec, .conformance:
        return false
    }
    return true
}

// The encoding half of `_CodecCodable`.

extension Array where Element: Codable {
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws {
        let array = unsafeBitCast(value, to: Self.self)
        let header = try encoder.appendContainerHeader(.unkeyed, count: array.count)
        // Classified once for all elements; direct elements then cost a switch and a few bytes each.
        let kind = encoder.kind(of: Element.self)
        if kind.isDirect {
            for index in array.indices { _ = writeDirectly(array[index], kind, into: &encoder.buffer) }
        } else {
            for index in array.indices { try encoder.encodeIndirectly(array[index], kind, component: .index(index)) }
        }
        encoder.patchLength(header)
    }
}

extension Dictionary where Key == String, Value: Codable {
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws {
        let dictionary = unsafeBitCast(value, to: Self.self)
        let header = try encoder.appendContainerHeader(.keyed, count: dictionary.count)
        let kind = encoder.kind(of: Value.self)
        for (key, element) in dictionary {
            encoder.buffer.appendStringBody(key)
            if !writeDirectly(element, kind, into: &encoder.buffer) {
                try encoder.encodeIndirectly(element, kind, component: .key(BinaryCodingKey(stringValue: key)))
            }
        }
        encoder.patchLength(header)
    }
}

extension Optional where Wrapped: Codable {
    static func encodeByCodec<T>(_ value: T, to encoder: BinaryEncoderImpl) throws {
        // As Optional's own conformance does through a single-value container: nil, or the wrapped value.
        if let wrapped = unsafeBitCast(value, to: Self.self) {
            try encoder.encodeValue(wrapped)
        } else {
            encoder.buffer.append(WireTag.null.rawValue)
        }
    }
}

/// The `Encoder` handed to `encode(to:)`. One instance serves a whole top-level value: it writes into one growing
/// buffer, and `frame` describes the value currently being encoded (saved and restored around nested values, so no
/// per-value object is allocated).
///
/// A value's container header is written when the value first asks for a container; its length is patched when the
/// value's `encode(to:)` returns. Nested containers and super encoders may be written interleaved with their parent,
/// so each gets its own child encoder and buffer, is counted in the parent at once, and is spliced in at its
/// reserved offset when the owning value finishes.
final class BinaryEncoderImpl: Encoder {
    enum FrameKind: UInt8 {
        case none, keyed, unkeyed, single, singleWritten
    }

    /// The value currently being encoded.
    struct Frame {
        var kind = FrameKind.none
        /// Offset of the container header (valid once `kind` is keyed or unkeyed).
        var header = 0
        /// Children in `pending` at or above this index belong to this value.
        var pendingMark = 0
    }

    // Unchecked exclusivity: these are touched on every value, the dynamic checks cost more than the work, and no
    // access overlaps another (none spans a call into user code).
    @exclusivity(unchecked) var buffer: [UInt8] = []
    @exclusivity(unchecked) var path: [PathComponent]
    let userInfoValues: [CodingUserInfoKey: Any]
    @exclusivity(unchecked) var frame = Frame()
    /// Child encoders waiting to be spliced in, in the order their slots were reserved.
    @exclusivity(unchecked) var pending: [(offset: Int, child: BinaryEncoderImpl)] = []
    @exclusivity(unchecked) var kindCache = KindCache()

    init(userInfo: [CodingUserInfoKey: Any], path: [PathComponent]) {
        userInfoValues = userInfo
        self.path = path
    }

    var codingPath: [any CodingKey] { path.map(\.codingKey) }
    var userInfo: [CodingUserInfoKey: Any] { userInfoValues }

    func codingPath(depth: Int) -> [any CodingKey] { path.prefix(depth).map(\.codingKey) }

    func error(_ code: CodecError.Code, _ context: String) -> CodecError {
        CodecError(code, context, codingPath: path.pathDescription, isLocated: true)
    }

    // MARK: Values

    /// The kind of `T`: primitives are recognised inline, other types through the cache.
    @inline(__always)
    func kind<T>(of type: T.Type) -> ValueKind {
        let kind = ValueKind(primitive: T.self)
        return kind.isPrimitive ? kind : nonPrimitiveKind(T.self)
    }

    private func nonPrimitiveKind<T>(_ type: T.Type) -> ValueKind {
        let id = ObjectIdentifier(T.self)
        if let kind = kindCache.lookUp(id) { return kind }
        let kind = ValueKind.classify(T.self)
        kindCache.insert(id, kind)
        return kind
    }

    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T) throws {
        let kind = kind(of: T.self)
        if writeDirectly(value, kind, into: &buffer) { return }
        try encodeIndirectly(value, kind, component: nil)
    }

    @inline(__always)
    func encodeValue<T: Encodable, Key: CodingKey>(_ value: T, key: Key) throws {
        let kind = kind(of: T.self)
        if writeDirectly(value, kind, into: &buffer) { return }
        try encodeIndirectly(value, kind, component: .key(key))
    }

    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T, index: Int) throws {
        let kind = kind(of: T.self)
        if writeDirectly(value, kind, into: &buffer) { return }
        try encodeIndirectly(value, kind, component: .index(index))
    }

    /// Encodes a value that needs the Encoder: through the codec's own loop for arrays, string-keyed dictionaries
    /// and optionals, otherwise by calling `value.encode(to: self)` in a fresh frame and then closing whatever
    /// container the value opened.
    func encodeIndirectly<T: Encodable>(_ value: T, _ kind: ValueKind, component: PathComponent?) throws {
        if let component { path.append(component) }
        defer { if component != nil { path.removeLast() } }
        if case .byCodec(let codecType) = kind {
            try codecType.encodeByCodec(value, to: self)
            return
        }
        let savedFrame = frame
        let start = buffer.count
        frame = Frame(kind: .none, header: start, pendingMark: pending.count)
        defer { frame = savedFrame }
        do {
            try value.encode(to: self)
            try finishFrame()
        } catch {
            // Drop what the failed value wrote, so a caller that catches the error still has a well-formed buffer.
            buffer.removeSubrange(start...)
            pending.removeSubrange(frame.pendingMark...)
            throw error
        }
    }

    /// Completes the current value: splices in its pending children and patches its container length, or writes
    /// the empty tag if it wrote nothing at all.
    func finishFrame() throws {
        switch frame.kind {
        case .none, .single:
            buffer.append(WireTag.empty.rawValue)
        case .singleWritten:
            break
        case .keyed, .unkeyed:
            // Reverse order keeps the earlier reserved offsets valid while later ones are filled.
            while pending.count > frame.pendingMark {
                let (offset, child) = pending.removeLast()
                try child.finishFrame()
                buffer.insert(contentsOf: child.buffer, at: offset)
            }
            patchLength(frame.header)
        }
    }

    /// Appends a container header that already holds its final entry count (for containers the codec writes
    /// itself) and returns its offset.
    func appendContainerHeader(_ tag: WireTag, count: Int) throws -> Int {
        guard count <= UInt32.max else {
            throw error(.unsupported, "a container cannot hold more than \(UInt32.max) entries")
        }
        let header = buffer.appendContainerHeader(tag)
        buffer.storeUInt32(UInt32(count), at: header + ContainerHeader.countOffset)
        return header
    }

    /// Writes the final length into the container header at `header`, whose contents end at the buffer's end.
    @inline(__always)
    func patchLength(_ header: Int) {
        let length = buffer.count - header - ContainerHeader.countOffset
        buffer.storeUInt64(UInt64(length), at: header + ContainerHeader.lengthOffset)
    }

    // MARK: Containers

    /// Returns the header offset of the current value's container of `kind`, writing the header on first use.
    func openContainer(_ kind: FrameKind) -> Int {
        if frame.kind == kind { return frame.header }
        precondition(
            frame.kind == .none,
            "BinaryEncoder: a value asked for a \(kind) container after using a \(frame.kind) container; "
                + "one value must use a single kind of container")
        frame.kind = kind
        frame.header = buffer.appendContainerHeader(kind == .keyed ? .keyed : .unkeyed)
        return frame.header
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let header = openContainer(.keyed)
        return KeyedEncodingContainer(BinaryKeyedEncodingContainer<Key>(
            encoder: self, header: header, pathDepth: path.count))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let header = openContainer(.unkeyed)
        return BinaryUnkeyedEncodingContainer(encoder: self, header: header, pathDepth: path.count)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if frame.kind == .none { frame.kind = .single }
        precondition(
            frame.kind == .single || frame.kind == .singleWritten,
            "BinaryEncoder: a value asked for a single-value container after using a \(frame.kind) container")
        return BinarySingleValueEncodingContainer(encoder: self, pathDepth: path.count)
    }

    // MARK: Entries

    /// Counts one more entry in the container at `header` and returns the entry's index.
    @inline(__always)
    func addEntry(_ header: Int) throws -> Int {
        let offset = header + ContainerHeader.countOffset
        let count = buffer.loadUInt32(at: offset)
        guard count < UInt32.max else {
            throw error(.unsupported, "a container cannot hold more than \(UInt32.max) entries")
        }
        buffer.storeUInt32(count + 1, at: offset)
        return Int(count)
    }

    /// Undoes `addEntry` and drops the bytes written from `mark` on, after the entry's value failed.
    func removeEntry(_ header: Int, truncatingTo mark: Int) {
        buffer.removeSubrange(mark...)
        let offset = header + ContainerHeader.countOffset
        buffer.storeUInt32(buffer.loadUInt32(at: offset) - 1, at: offset)
    }

    /// Reserves an entry for a child encoder (nested container or super encoder) whose bytes are spliced in when
    /// the current value finishes.
    func reserveChild(header: Int, key: String?, pathDepth: Int, component: PathComponent) -> BinaryEncoderImpl {
        do {
            _ = try addEntry(header)
        } catch {
            // The Encoder API offers no way to throw here.
            preconditionFailure("\(error)")
        }
        if let key { buffer.appendStringBody(key) }
        var childPath = Array(path.prefix(pathDepth))
        childPath.append(component)
        let child = BinaryEncoderImpl(userInfo: userInfoValues, path: childPath)
        pending.append((buffer.count, child))
        return child
    }
}

// MARK: - Keyed

struct BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BinaryEncoderImpl
    let header: Int
    let pathDepth: Int

    var codingPath: [any CodingKey] { encoder.codingPath(depth: pathDepth) }

    @inline(__always)
    private func encodeEntry<T: Encodable>(_ value: T, forKey key: Key) throws {
        let mark = encoder.buffer.count
        _ = try encoder.addEntry(header)
        encoder.buffer.appendStringBody(key.stringValue)
        do {
            try encoder.encodeValue(value, key: key)
        } catch {
            encoder.removeEntry(header, truncatingTo: mark)
            throw error
        }
    }

    mutating func encodeNil(forKey key: Key) throws {
        _ = try encoder.addEntry(header)
        encoder.buffer.appendStringBody(key.stringValue)
        encoder.buffer.append(WireTag.null.rawValue)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encodeEntry(value, forKey: key) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
            .container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
            .unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = BinaryCodingKey.superKey
        return encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
    }
}

// MARK: - Unkeyed

struct BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BinaryEncoderImpl
    let header: Int
    let pathDepth: Int

    var codingPath: [any CodingKey] { encoder.codingPath(depth: pathDepth) }

    var count: Int {
        Int(encoder.buffer.loadUInt32(at: header + ContainerHeader.countOffset))
    }

    @inline(__always)
    private func encodeElement<T: Encodable>(_ value: T) throws {
        let mark = encoder.buffer.count
        let index = try encoder.addEntry(header)
        do {
            try encoder.encodeValue(value, index: index)
        } catch {
            encoder.removeEntry(header, truncatingTo: mark)
            throw error
        }
    }

    mutating func encodeNil() throws {
        _ = try encoder.addEntry(header)
        encoder.buffer.append(WireTag.null.rawValue)
    }

    mutating func encode(_ value: Bool) throws { try encodeElement(value) }
    mutating func encode(_ value: String) throws { try encodeElement(value) }
    mutating func encode(_ value: Double) throws { try encodeElement(value) }
    mutating func encode(_ value: Float) throws { try encodeElement(value) }
    mutating func encode(_ value: Int) throws { try encodeElement(value) }
    mutating func encode(_ value: Int8) throws { try encodeElement(value) }
    mutating func encode(_ value: Int16) throws { try encodeElement(value) }
    mutating func encode(_ value: Int32) throws { try encodeElement(value) }
    mutating func encode(_ value: Int64) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt8) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt16) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt32) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt64) throws { try encodeElement(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try encodeElement(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try encodeElement(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeElement(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.reserveChild(header: header, key: nil, pathDepth: pathDepth, component: .index(count))
            .container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.reserveChild(header: header, key: nil, pathDepth: pathDepth, component: .index(count))
            .unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.reserveChild(header: header, key: nil, pathDepth: pathDepth, component: .index(count))
    }
}

// MARK: - Single value

struct BinarySingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BinaryEncoderImpl
    let pathDepth: Int

    var codingPath: [any CodingKey] { encoder.codingPath(depth: pathDepth) }

    /// A single-value container holds exactly one value; a second one would make the value two values on the wire.
    @inline(__always)
    private func checkEmpty() throws {
        guard encoder.frame.kind == .single else {
            throw encoder.error(.unsupported, "a single-value container can hold only one value")
        }
    }

    @inline(__always)
    private func encodeSingle<T: Encodable>(_ value: T) throws {
        try checkEmpty()
        try encoder.encodeValue(value)
        // Marked only after success, so a failed value leaves the container writable (and the frame well-formed).
        encoder.frame.kind = .singleWritten
    }

    mutating func encodeNil() throws {
        try checkEmpty()
        encoder.buffer.append(WireTag.null.rawValue)
        encoder.frame.kind = .singleWritten
    }

    mutating func encode(_ value: Bool) throws { try encodeSingle(value) }
    mutating func encode(_ value: String) throws { try encodeSingle(value) }
    mutating func encode(_ value: Double) throws { try encodeSingle(value) }
    mutating func encode(_ value: Float) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int8) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int16) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int32) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int64) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt8) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt16) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt32) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt64) throws { try encodeSingle(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try encodeSingle(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try encodeSingle(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeSingle(value) }
}
