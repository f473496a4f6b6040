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
