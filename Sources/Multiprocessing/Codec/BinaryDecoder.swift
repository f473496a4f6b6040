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

/// The `Decoder` handed to `init(from:)`. One instance serves a whole top-level value: a cursor over the input plus
/// `frame`, the value currently being decoded (saved and restored around nested values, so no per-value object is
/// allocated).
final class BinaryDecoderImpl: Decoder {
    enum FrameKind: UInt8 {
        case none, single, container
    }

    /// The value currently being decoded.
    struct Frame {
        var kind = FrameKind.none
        /// Offset of the value's tag.
        var start = 0
        /// End of the value's container, once it opened one.
        var end = 0
    }

    /// Where a keyed container's lookups stand; kept here, not in the container, because keyed container methods
    /// are non-mutating, and a side table spares allocating an object per container.
    struct KeyedState {
        let bodyStart: Int
        let count: Int
        /// The entry the next lookup tries first: entries are usually read in the order they were written.
        var nextOffset: Int
        var nextIndex: Int
        /// Key → (value offset, entry index), built on the first out-of-order lookup in a large container.
        var index: [String: (valueOffset: Int, entryIndex: Int)]?
    }

    // Unchecked exclusivity: these are touched on every value, the dynamic checks cost more than the work, and no
    // access overlaps another (none spans a call into user code).
    @exclusivity(unchecked) var reader: ByteReader
    @exclusivity(unchecked) var frame: Frame
    @exclusivity(unchecked) var depth: Int
    let maximumDepth: Int
    @exclusivity(unchecked) var path: [PathComponent]
    @exclusivity(unchecked) var keyedStates: [KeyedState] = []
    @exclusivity(unchecked) var kindCache = KindCache()
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]

    init(
        reader: ByteReader,
        maximumDepth: Int,
        depth: Int,
        userInfo: [CodingUserInfoKey: any Sendable],
        path: [PathComponent]
    ) {
        self.reader = reader
        self.maximumDepth = maximumDepth
        self.depth = depth
        self.path = path
        sendableUserInfo = userInfo
        frame = Frame(kind: .none, start: reader.cursor, end: reader.cursor)
    }

    var codingPath: [any CodingKey] { path.map(\.codingKey) }
    /// Converted on first use only: most types never look, and converting costs an allocation.
    lazy var userInfo: [CodingUserInfoKey: Any] = erasedUserInfo(sendableUserInfo)

    func codingPath(depth pathDepth: Int, extraPath: [PathComponent]) -> [any CodingKey] {
        (path.prefix(pathDepth) + extraPath).map(\.codingKey)
    }

    func pathDescription(depth pathDepth: Int, extraPath: [PathComponent], last: PathComponent? = nil) -> String {
        var components = Array(path.prefix(pathDepth)) + extraPath
        if let last { components.append(last) }
        return components.pathDescription
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

    /// Decodes the value at the cursor, leaving the cursor after it.
    @inline(__always)
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        let kind = kind(of: T.self)
        if kind.isDirect { return try reader.readDirect(kind, as: T.self) }
        return try decodeIndirectly(T.self, kind, extraPath: [], component: nil)
    }

    @inline(__always)
    func decodeValue<T: Decodable, Key: CodingKey>(
        _ type: T.Type,
        key: Key,
        extraPath: [PathComponent]
    ) throws -> T {
        let kind = kind(of: T.self)
        if kind.isDirect { return try reader.readDirect(kind, as: T.self) }
        return try decodeIndirectly(T.self, kind, extraPath: extraPath, component: .key(key))
    }

    @inline(__always)
    func decodeValue<T: Decodable>(_ type: T.Type, index: Int, extraPath: [PathComponent]) throws -> T {
        let kind = kind(of: T.self)
        if kind.isDirect { return try reader.readDirect(kind, as: T.self) }
        return try decodeIndirectly(T.self, kind, extraPath: extraPath, component: .index(index))
    }

    /// Decodes a value that needs the Decoder: through the codec's own loop for arrays, string-keyed dictionaries
    /// and optionals, otherwise by calling `T(from: self)` in a fresh frame and then moving the cursor past the
    /// value whatever `init(from:)` read.
    func decodeIndirectly<T: Decodable>(
        _ type: T.Type,
        _ kind: ValueKind,
        extraPath: [PathComponent],
        component: PathComponent?
    ) throws -> T {
        let savedPath = path.count
        if !extraPath.isEmpty { path.append(contentsOf: extraPath) }
        if let component { path.append(component) }
        defer { if path.count > savedPath { path.removeLast(path.count - savedPath) } }
        if case .byCodec(let codecType) = kind {
            return try codecType.decodeByCodec(from: self, as: T.self)
        }
        let savedFrame = frame
        let savedLimit = reader.limit
        let savedDepth = depth
        let savedStates = keyedStates.count
        frame = Frame(kind: .none, start: reader.cursor, end: reader.cursor)
        defer {
            frame = savedFrame
            reader.limit = savedLimit
            depth = savedDepth
            if keyedStates.count > savedStates { keyedStates.removeLast(keyedStates.count - savedStates) }
        }
        let value = try T(from: self)
        if frame.kind == .container {
            // Entries the type did not read are skipped; the length was validated when the container opened.
            reader.cursor = frame.end
        } else {
            // Skipping from the start (rather than trusting the cursor) is O(1) and right even if init(from:)
            // read nothing, read twice, or recovered from an error.
            reader.cursor = frame.start
            try reader.skipValue()
        }
        return value
    }

    /// `error` located at the current path plus `last`.
    func locate(_ error: CodecError, last: PathComponent) -> CodecError {
        var components = path
        components.append(last)
        return error.located(at: components.pathDescription)
    }

    // MARK: Containers

    /// Reads the header of the current value's container and, the first time, enters it: counts the depth and
    /// confines reads to it.
    func openFrameContainer(_ tag: WireTag) throws -> (count: Int, bodyStart: Int, end: Int) {
        reader.cursor = frame.start
        let header = try reader.readContainerHeader(tag, minimumEntrySize: tag == .keyed ? 2 : 1)
        if frame.kind != .container {
            try enterContainer()
            frame.kind = .container
            frame.end = header.end
            reader.limit = header.end
        }
        return header
    }

    /// Counts one more level of nesting, throwing instead once it would exceed the limit.
    func enterContainer() throws {
        guard depth < maximumDepth else {
            throw CodecError(.nestingTooDeep, "containers nest deeper than maximumDepth (\(maximumDepth))")
        }
        depth += 1
    }

    /// A container the codec reads with its own loop, entered with `enterCodecContainer`.
    struct CodecContainer {
        let count: Int
        let bodyStart: Int
        let end: Int
        let savedLimit: Int
    }

    /// Enters the container of `tag` at the cursor for `_CodecCodable`: validates the header, counts the depth and
    /// confines reads to the container. Pair with `leaveCodecContainer`.
    func enterCodecContainer(_ tag: WireTag) throws -> CodecContainer {
        let header = try openNestedContainer(tag)
        let container = CodecContainer(
            count: header.count,
            bodyStart: header.bodyStart,
            end: header.end,
            savedLimit: reader.limit
        )
        reader.limit = header.end
        reader.cursor = header.bodyStart
        return container
    }

    /// Leaves a container entered with `enterCodecContainer`, with the cursor after it.
    func leaveCodecContainer(_ container: CodecContainer) {
        depth -= 1
        reader.limit = container.savedLimit
        reader.cursor = container.end
    }

    func makeKeyedContainer<Key: CodingKey>(
        _ header: (count: Int, bodyStart: Int, end: Int),
        pathDepth: Int,
        extraPath: [PathComponent]
    ) -> KeyedDecodingContainer<Key> {
        keyedStates.append(
            KeyedState(
                bodyStart: header.bodyStart,
                count: header.count,
                nextOffset: header.bodyStart,
                nextIndex: 0
            )
        )
        return KeyedDecodingContainer(
            BinaryKeyedDecodingContainer<Key>(
                decoder: self,
                stateIndex: keyedStates.count - 1,
                pathDepth: pathDepth,
                extraPath: extraPath
            )
        )
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        do {
            let header = try openFrameContainer(.keyed)
            return makeKeyedContainer(header, pathDepth: path.count, extraPath: [])
        } catch let error as CodecError where !error.isLocated {
            throw error.located(at: path.pathDescription)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        do {
            let header = try openFrameContainer(.unkeyed)
            return BinaryUnkeyedDecodingContainer(
                decoder: self,
                nextOffset: header.bodyStart,
                elementCount: header.count,
                pathDepth: path.count,
                extraPath: []
            )
        } catch let error as CodecError where !error.isLocated {
            throw error.located(at: path.pathDescription)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        if frame.kind == .none { frame.kind = .single }
        return BinarySingleValueDecodingContainer(decoder: self, start: frame.start, pathDepth: path.count)
    }

    /// Opens a nested container at the cursor (inside the current value's container) and returns its end.
    func openNestedContainer(_ tag: WireTag) throws -> (count: Int, bodyStart: Int, end: Int) {
        let header = try reader.readContainerHeader(tag, minimumEntrySize: tag == .keyed ? 2 : 1)
        try enterContainer()
        return header
    }

    /// A decoder for the value at `offset`, for `superDecoder()`.
    func makeChildDecoder(at offset: Int, path childPath: [PathComponent]) -> BinaryDecoderImpl {
        var childReader = reader
        childReader.cursor = offset
        return BinaryDecoderImpl(
            reader: childReader,
            maximumDepth: maximumDepth,
            depth: depth,
            userInfo: sendableUserInfo,
            path: childPath
        )
    }

    // MARK: Keyed lookups

    /// Finds the entry for `key` in keyed container `stateIndex`, or nil if it has none; leaves the cursor at the
    /// entry's value.
    @inline(__always)
    func findEntry(_ stateIndex: Int, _ key: String) throws -> (valueOffset: Int, entryIndex: Int)? {
        var key = key
        let nextIndex = keyedStates[stateIndex].nextIndex
        if nextIndex < keyedStates[stateIndex].count {
            reader.cursor = keyedStates[stateIndex].nextOffset
            if try reader.readKey(matching: &key) { return (reader.cursor, nextIndex) }
        }
        return try findEntryOutOfOrder(stateIndex, key)
    }

    private func findEntryOutOfOrder(_ stateIndex: Int, _ key: String) throws -> (valueOffset: Int, entryIndex: Int)? {
        let state = keyedStates[stateIndex]
        // Scanning a few entries is cheaper than building a dictionary.
        if state.count <= 8 {
            var key = key
            reader.cursor = state.bodyStart
            for entryIndex in 0..<state.count {
                if try reader.readKey(matching: &key) { return (reader.cursor, entryIndex) }
                try reader.skipValue()
            }
            return nil
        }
        if let index = state.index { return lookUp(key, in: index) }
        var index = [String: (valueOffset: Int, entryIndex: Int)](minimumCapacity: state.count)
        reader.cursor = state.bodyStart
        for entryIndex in 0..<state.count {
            let name = try reader.readStringBody()
            // The first entry wins, as in the ordered scan.
            if index[name] == nil { index[name] = (reader.cursor, entryIndex) }
            try reader.skipValue()
        }
        keyedStates[stateIndex].index = index
        return lookUp(key, in: index)
    }

    private func lookUp(
        _ key: String,
        in index: [String: (valueOffset: Int, entryIndex: Int)]
    ) -> (valueOffset: Int, entryIndex: Int)? {
        guard let entry = index[key] else { return nil }
        reader.cursor = entry.valueOffset
        return entry
    }

    /// Records that entry `entryIndex` of keyed container `stateIndex` was consumed up to `end`, so the next lookup
    /// tries the entry after it.
    @inline(__always)
    func didConsumeEntry(_ stateIndex: Int, _ entryIndex: Int, end: Int) {
        keyedStates[stateIndex].nextIndex = entryIndex + 1
        keyedStates[stateIndex].nextOffset = end
    }

    /// All keys of keyed container `stateIndex`, stopping quietly at malformed input (`allKeys` cannot throw; the
    /// decode that follows reports the problem).
    func allKeys(_ stateIndex: Int) -> [String] {
        let state = keyedStates[stateIndex]
        var keys: [String] = []
        reader.cursor = state.bodyStart
        for _ in 0..<state.count {
            guard let name = try? reader.readStringBody(), (try? reader.skipValue()) != nil else { break }
            keys.append(name)
        }
        return keys
    }
}

// MARK: - Keyed

struct BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BinaryDecoderImpl
    let stateIndex: Int
    let pathDepth: Int
    /// Keys of a nested container below the owning value's path.
    let extraPath: [PathComponent]

    var codingPath: [any CodingKey] { decoder.codingPath(depth: pathDepth, extraPath: extraPath) }

    var allKeys: [Key] { decoder.allKeys(stateIndex).compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        (try? decoder.findEntry(stateIndex, key.stringValue)) != nil
    }

    private func locate(_ error: CodecError, _ key: Key) -> CodecError {
        error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: extraPath, last: .key(key)))
    }

    private func keyNotFound(_ key: Key) -> CodecError {
        locate(CodecError(.keyNotFound, "no entry for key \"\(key.stringValue)\""), key)
    }

    /// Finds `key`'s entry and leaves the cursor at its value.
    @inline(__always)
    private func entry(_ key: Key) throws -> (valueOffset: Int, entryIndex: Int) {
        guard let entry = try decoder.findEntry(stateIndex, key.stringValue) else { throw keyNotFound(key) }
        return entry
    }

    @inline(__always)
    private func decodeEntry<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        do {
            let entry = try entry(key)
            let value = try decoder.decodeValue(T.self, key: key, extraPath: extraPath)
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: decoder.reader.cursor)
            return value
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    @inline(__always)
    private func decodeEntryIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        do {
            guard let entry = try decoder.findEntry(stateIndex, key.stringValue) else { return nil }
            if try decoder.reader.peekByte() == WireTag.null.rawValue {
                decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: entry.valueOffset + 1)
                return nil
            }
            let value = try decoder.decodeValue(T.self, key: key, extraPath: extraPath)
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: decoder.reader.cursor)
            return value
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        do {
            let entry = try entry(key)
            guard try decoder.reader.peekByte() == WireTag.null.rawValue else { return false }
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: entry.valueOffset + 1)
            return true
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeEntry(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeEntry(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeEntry(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeEntry(type, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try decodeEntry(type, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try decodeEntry(type, forKey: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeEntry(type, forKey: key) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try decodeEntryIfPresent(type, forKey: key)
    }

    /// Opens the container of `tag` held in `key`'s entry.
    private func nested(
        _ tag: WireTag,
        forKey key: Key
    ) throws -> (header: (count: Int, bodyStart: Int, end: Int), extraPath: [PathComponent]) {
        do {
            let entry = try entry(key)
            let header = try decoder.openNestedContainer(tag)
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: header.end)
            return (header, extraPath + [.key(key)])
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (header, nestedPath) = try nested(.keyed, forKey: key)
        return decoder.makeKeyedContainer(header, pathDepth: pathDepth, extraPath: nestedPath)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let (header, nestedPath) = try nested(.unkeyed, forKey: key)
        return BinaryUnkeyedDecodingContainer(
            decoder: decoder,
            nextOffset: header.bodyStart,
            elementCount: header.count,
            pathDepth: pathDepth,
            extraPath: nestedPath
        )
    }

    private func makeSuperDecoder<SuperKey: CodingKey>(
        _ key: SuperKey,
        entry: (valueOffset: Int, entryIndex: Int)
    )
        throws -> any Decoder
    {
        try decoder.reader.skipValue()
        decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: decoder.reader.cursor)
        var childPath = Array(decoder.path.prefix(pathDepth)) + extraPath
        childPath.append(.key(key))
        return decoder.makeChildDecoder(at: entry.valueOffset, path: childPath)
    }

    func superDecoder() throws -> any Decoder {
        let key = BinaryCodingKey.superKey
        do {
            guard let entry = try decoder.findEntry(stateIndex, key.stringValue) else {
                throw CodecError(.keyNotFound, "no entry for key \"super\"")
            }
            return try makeSuperDecoder(key, entry: entry)
        } catch let error as CodecError where !error.isLocated {
            throw error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: extraPath, last: .key(key)))
        }
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        do {
            return try makeSuperDecoder(key, entry: try entry(key))
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }
}

// MARK: - Unkeyed

struct BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BinaryDecoderImpl
    /// Offset of the next element.
    var nextOffset: Int
    var currentIndex = 0
    let elementCount: Int
    let pathDepth: Int
    /// Keys of a nested container below the owning value's path.
    let extraPath: [PathComponent]

    init(decoder: BinaryDecoderImpl, nextOffset: Int, elementCount: Int, pathDepth: Int, extraPath: [PathComponent]) {
        self.decoder = decoder
        self.nextOffset = nextOffset
        self.elementCount = elementCount
        self.pathDepth = pathDepth
        self.extraPath = extraPath
    }

    var codingPath: [any CodingKey] { decoder.codingPath(depth: pathDepth, extraPath: extraPath) }
    var count: Int? { elementCount }
    var isAtEnd: Bool { currentIndex >= elementCount }

    private func locate(_ error: CodecError) -> CodecError {
        error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: extraPath, last: .index(currentIndex)))
    }

    /// Positions the cursor at the next element, or throws if there is none.
    @inline(__always)
    private func moveToNext() throws {
        guard currentIndex < elementCount else {
            throw CodecError(.valueNotFound, "unkeyed container has no element \(currentIndex) (count \(elementCount))")
        }
        decoder.reader.cursor = nextOffset
    }

    @inline(__always)
    private mutating func decodeElement<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            try moveToNext()
            let value = try decoder.decodeValue(T.self, index: currentIndex, extraPath: extraPath)
            nextOffset = decoder.reader.cursor
            currentIndex += 1
            return value
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }

    mutating func decodeNil() throws -> Bool {
        do {
            try moveToNext()
            guard try decoder.reader.peekByte() == WireTag.null.rawValue else { return false }
            nextOffset += 1
            currentIndex += 1
            return true
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try decodeElement(type) }
    mutating func decode(_ type: String.Type) throws -> String { try decodeElement(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try decodeElement(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try decodeElement(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try decodeElement(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decodeElement(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decodeElement(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decodeElement(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decodeElement(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decodeElement(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeElement(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeElement(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeElement(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeElement(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try decodeElement(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeElement(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeElement(type) }

    /// Opens the container of `tag` that is the next element.
    private mutating func nested(
        _ tag: WireTag
    ) throws -> (header: (count: Int, bodyStart: Int, end: Int), extraPath: [PathComponent]) {
        do {
            try moveToNext()
            let header = try decoder.openNestedContainer(tag)
            let nestedPath = extraPath + [.index(currentIndex)]
            nextOffset = header.end
            currentIndex += 1
            return (header, nestedPath)
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (header, nestedPath) = try nested(.keyed)
        return decoder.makeKeyedContainer(header, pathDepth: pathDepth, extraPath: nestedPath)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (header, nestedPath) = try nested(.unkeyed)
        return BinaryUnkeyedDecodingContainer(
            decoder: decoder,
            nextOffset: header.bodyStart,
            elementCount: header.count,
            pathDepth: pathDepth,
            extraPath: nestedPath
        )
    }

    mutating func superDecoder() throws -> any Decoder {
        do {
            try moveToNext()
            try decoder.reader.skipValue()
            var childPath = Array(decoder.path.prefix(pathDepth)) + extraPath
            childPath.append(.index(currentIndex))
            let child = decoder.makeChildDecoder(at: nextOffset, path: childPath)
            nextOffset = decoder.reader.cursor
            currentIndex += 1
            return child
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }
}

// MARK: - Single value

struct BinarySingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BinaryDecoderImpl
    /// Offset of the value; every call reads from here, so asking twice returns the same value.
    let start: Int
    let pathDepth: Int

    var codingPath: [any CodingKey] { decoder.codingPath(depth: pathDepth, extraPath: []) }

    func decodeNil() -> Bool {
        decoder.reader.cursor = start
        guard (try? decoder.reader.peekByte()) == WireTag.null.rawValue else { return false }
        decoder.reader.cursor = start + 1
        return true
    }

    @inline(__always)
    private func decodeSingle<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            decoder.reader.cursor = start
            return try decoder.decodeValue(T.self)
        } catch let error as CodecError where !error.isLocated {
            throw error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: []))
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeSingle(type) }
    func decode(_ type: String.Type) throws -> String { try decodeSingle(type) }
    func decode(_ type: Double.Type) throws -> Double { try decodeSingle(type) }
    func decode(_ type: Float.Type) throws -> Float { try decodeSingle(type) }
    func decode(_ type: Int.Type) throws -> Int { try decodeSingle(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeSingle(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeSingle(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeSingle(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeSingle(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeSingle(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeSingle(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeSingle(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeSingle(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeSingle(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try decodeSingle(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeSingle(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeSingle(type) }
}
