import Testing

@testable import Multiprocessing

// MARK: - Fixtures

private struct Point: BitwiseCodable, Equatable {
    var x, y: Double
}

/// A bitwise struct with padding between its fields (7 bytes after `tag`).
private struct Padded: BitwiseCodable, Equatable {
    var tag: UInt8
    var value: UInt64
}

/// A bitwise struct of another size than `Point`.
private struct Tiny: BitwiseCodable, Equatable {
    var a: UInt16
}

/// Reads two integers from an unkeyed container.
private struct TwoInts: Decodable {
    var first, second: Int

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        first = try container.decode(Int.self)
        second = try container.decode(Int.self)
    }
}

private struct Person: Codable, Equatable {
    var name: String
    var age: Int
    var email: String?
    var tags: [String]
    var home: Point
    var scores: [String: Double]
}

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(width: Double, height: Double)
    case polygon([Point])
    case labeled(String, Int)
    case empty
}

private struct Team: Codable, Equatable {
    var name: String
    var members: [Person]
    var logo: Shape
    var lead: Person?
}

/// Fields that `encodeIfPresent` leaves out when nil.
private struct Sparse: Codable, Equatable {
    var a: Int?
    var b: String?
    var c: Int
}

/// A type that reports which keys its keyed container holds.
private struct KeyLister: Decodable {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var keys: [String]

    init(from decoder: any Decoder) throws {
        keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
    }
}

/// A base class whose subclasses encode their superclass's part both ways Codable allows.
private class Animal: Codable {
    var name: String
    var legs: Int

    init(name: String, legs: Int) {
        self.name = name
        self.legs = legs
    }
}

/// Encodes its superclass through `superEncoder()`, a nested value under the key "super".
private final class Dog: Animal {
    var breed: String

    private enum CodingKeys: String, CodingKey { case breed }

    init(name: String, legs: Int, breed: String) {
        self.breed = breed
        super.init(name: name, legs: legs)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
        try super.encode(to: container.superEncoder())
    }
}

/// Shares its encoder with its superclass, so both ask for a keyed container on the same value.
private final class Cat: Animal {
    var indoor: Bool

    private enum CodingKeys: String, CodingKey { case indoor }

    init(name: String, legs: Int, indoor: Bool) {
        self.indoor = indoor
        super.init(name: name, legs: legs)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        indoor = try container.decode(Bool.self, forKey: .indoor)
        try super.init(from: decoder)
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(indoor, forKey: .indoor)
        try super.encode(to: encoder)
    }
}

/// Writes nested containers interleaved with its own entries (legal Codable), and reads them in another order.
private struct Interleaved: Codable, Equatable {
    var a: Int
    var b: String
    var flag: Bool
    var x: Int
    var y: String
    var list: [Int]
    var deep: Double

    private enum Keys: String, CodingKey { case a, b, flag, inner, list }
    private enum InnerKeys: String, CodingKey { case x, y, deep }

    init(a: Int, b: String, flag: Bool, x: Int, y: String, list: [Int], deep: Double) {
        (self.a, self.b, self.flag, self.x, self.y, self.list, self.deep) = (a, b, flag, x, y, list, deep)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var inner = container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
        var elements = container.nestedUnkeyedContainer(forKey: .list)
        try container.encode(a, forKey: .a)
        try inner.encode(x, forKey: .x)
        try elements.encode(list[0])
        try container.encode(b, forKey: .b)
        // A nested container of a nested container, itself interleaved with its parent.
        var deeper = elements.nestedContainer(keyedBy: InnerKeys.self)
        try inner.encode(y, forKey: .y)
        for element in list.dropFirst() { try elements.encode(element) }
        try deeper.encode(deep, forKey: .deep)
        try container.encode(flag, forKey: .flag)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        flag = try container.decode(Bool.self, forKey: .flag)
        var elements = try container.nestedUnkeyedContainer(forKey: .list)
        let inner = try container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
        y = try inner.decode(String.self, forKey: .y)
        x = try inner.decode(Int.self, forKey: .x)
        var list = [try elements.decode(Int.self)]
        let deeper = try elements.nestedContainer(keyedBy: InnerKeys.self)
        deep = try deeper.decode(Double.self, forKey: .deep)
        while !elements.isAtEnd { list.append(try elements.decode(Int.self)) }
        self.list = list
        b = try container.decode(String.self, forKey: .b)
        a = try container.decode(Int.self, forKey: .a)
    }
}

/// A struct with many fields, decoded out of order, so lookups go through the key index.
private struct Wide: Codable, Equatable {
    var f0 = 0, f1 = 1, f2 = 2, f3 = 3, f4 = 4, f5 = 5, f6 = 6, f7 = 7, f8 = 8, f9 = 9, f10 = 10, f11 = 11
}

private struct WideReversed: Decodable {
    var values: [Int]

    private enum CodingKeys: String, CodingKey {
        case f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let keys: [CodingKeys] = [.f11, .f10, .f9, .f8, .f7, .f6, .f5, .f4, .f3, .f2, .f1, .f0]
        values = try keys.map { try container.decode(Int.self, forKey: $0) }
        #expect(container.contains(.f3))
    }
}

/// Only the fields a newer sender added are unknown to this older receiver.
private struct PersonSummary: Codable, Equatable {
    var name: String
    var age: Int
}

/// Throws the standard library's `DecodingError` for odd numbers.
private struct Even: Codable, Equatable {
    var value: Int

    init(_ value: Int) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        value = try container.decode(Int.self)
        guard value % 2 == 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(value) is odd")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

private struct EvenHolder: Codable, Equatable {
    var even: Even
}

private struct Named: Codable, Equatable {
    var name: String
}

private struct NamedList: Codable, Equatable {
    var items: [Named]
}

/// Decodes itself as an unkeyed container of its children: a recursive type for depth tests.
private struct Nest: Codable, Equatable {
    var children: [Nest]

    init(children: [Nest]) { self.children = children }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var children: [Nest] = []
        while !container.isAtEnd { children.append(try container.decode(Nest.self)) }
        self.children = children
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for child in children { try container.encode(child) }
    }
}

/// Records the coding path it was encoded at and the one it is decoded at.
private struct PathRecorder: Codable, Equatable {
    var encodedAt = ""
    var decodedAt = ""

    init() {}

    init(from decoder: any Decoder) throws {
        encodedAt = try decoder.singleValueContainer().decode(String.self)
        decodedAt = decoder.codingPath.map(\.stringValue).joined(separator: "/")
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoder.codingPath.map(\.stringValue).joined(separator: "/"))
    }
}

/// Puts `PathRecorder`s in a nested container, an unkeyed super encoder and a keyed super encoder.
private struct PathHolder: Codable {
    var nested = PathRecorder()
    var inList = PathRecorder()
    var inSuper = PathRecorder()

    private enum Keys: String, CodingKey { case box, list }
    private enum BoxKeys: String, CodingKey { case value }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        nested = try container.nestedContainer(keyedBy: BoxKeys.self, forKey: .box)
            .decode(PathRecorder.self, forKey: .value)
        var list = try container.nestedUnkeyedContainer(forKey: .list)
        inList = try PathRecorder(from: list.superDecoder())
        inSuper = try PathRecorder(from: container.superDecoder())
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var box = container.nestedContainer(keyedBy: BoxKeys.self, forKey: .box)
        try box.encode(nested, forKey: .value)
        var list = container.nestedUnkeyedContainer(forKey: .list)
        try inList.encode(to: list.superEncoder())
        try inSuper.encode(to: container.superEncoder())
    }
}

/// Writes two values to one single-value container, which the format cannot express.
private struct TwoValues: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(1)
        try container.encode(2)
    }
}

/// Fails to encode, to check that errors pass through and leave the output untouched.
private struct Unencodable: Encodable {
    struct Failure: Error {}

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(1)
        throw Failure()
    }
}

private struct UserInfoEcho: Codable, Equatable {
    static let key = CodingUserInfoKey(rawValue: "echo")!
    var seen: String

    init(seen: String) { self.seen = seen }

    init(from decoder: any Decoder) throws {
        let stored = try decoder.singleValueContainer().decode(String.self)
        seen = stored + "/" + (decoder.userInfo[Self.key] as? String ?? "none")
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoder.userInfo[Self.key] as? String ?? "none")
    }
}

/// A recursive value covering every container kind and the common primitives.
private indirect enum Value: Codable, Equatable {
    /// Whether a `Double` or `Float` inside is a NaN (never equal to itself).
    var containsNaN: Bool {
        switch self {
        case .double(let value): value.isNaN
        case .float(let value): value.isNaN
        case .array(let values): values.contains { $0.containsNaN }
        case .dictionary(let values): values.values.contains { $0.containsNaN }
        case .optional(let value): value?.containsNaN ?? false
        case .pair(let value, _): value.containsNaN
        default: false
        }
    }

    case int(Int)
    case int8(Int8)
    case uint32(UInt32)
    case double(Double)
    case float(Float)
    case string(String)
    case bool(Bool)
    case bytes([UInt8])
    case array([Value])
    case dictionary([String: Value])
    case optional(Value?)
    case pair(Value, label: String)
    case null
}

/// SplitMix64: small, fast and reproducible from a printed seed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func randomString(_ rng: inout SplitMix64) -> String {
    let alphabet: [String] = ["a", "b", "z", "0", " ", "é", "ß", "中", "🎉", "\u{0}", "\n", "key"]
    return (0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
}

private func randomValue(_ rng: inout SplitMix64, depth: Int) -> Value {
    let choice = Int.random(in: 0..<(depth > 3 ? 9 : 13), using: &rng)
    switch choice {
    case 0: return .int(Int(bitPattern: UInt(rng.next())))
    case 1: return .int8(Int8(truncatingIfNeeded: rng.next()))
    case 2: return .uint32(UInt32(truncatingIfNeeded: rng.next()))
    case 3: return .double(Double(Int64(bitPattern: rng.next()) >> 11) / 1024)
    case 4: return .float(Float(Int32(truncatingIfNeeded: rng.next()) >> 8) / 16)
    case 5: return .string(randomString(&rng))
    case 6: return .bool(rng.next() & 1 == 0)
    case 7: return .bytes((0..<Int.random(in: 0...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    case 8: return .null
    case 9: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    case 10:
        var dictionary: [String: Value] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            dictionary[randomString(&rng)] = randomValue(&rng, depth: depth + 1)
        }
        return .dictionary(dictionary)
    case 11: return .optional(rng.next() & 1 == 0 ? nil : randomValue(&rng, depth: depth + 1))
    default: return .pair(randomValue(&rng, depth: depth + 1), label: randomString(&rng))
    }
}

/// A fixed nested value used by the garbage tests.
private let sampleTeam = Team(
    name: "Core",
    members: [
        Person(
            name: "Ada",
            age: 36,
            email: "ada@example.com",
            tags: ["math", "engines"],
            home: Point(x: 1, y: 2),
            scores: ["a": 1.5, "b": -2]
        ),
        Person(name: "Grace", age: 85, email: nil, tags: [], home: Point(x: -3, y: 0.25), scores: [:]),
    ],
    logo: .polygon([Point(x: 0, y: 0), Point(x: 1, y: 1)]),
    lead: Person(name: "Linus", age: 54, email: nil, tags: ["kernel"], home: Point(x: 9, y: 9), scores: ["z": 0])
)

private func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
    }
    bytes.append(UInt8(value))
}

private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

// MARK: - Tests

@Suite("Binary codec")
struct CodecTests {
    let encoder = BinaryEncoder()
    let decoder = BinaryDecoder()

    private func roundTrip<T: Codable>(_ value: T) throws -> T {
        try decoder.decode(T.self, from: try encoder.encode(value))
    }

    private func expectRoundTrip<T: Codable & Equatable>(
        _ value: T,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try roundTrip(value) == value, sourceLocation: sourceLocation)
    }

    private func decodeError<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> CodecError? {
        #expect(throws: CodecError.self) { _ = try decoder.decode(type, from: bytes) }
    }

    // MARK: Round trips

    @Test func integersRoundTripAtTheirExtremes() throws {
        for value in [0, 1, -1, 42, Int.min, Int.max] { try expectRoundTrip(value) }
        for value in [Int8.min, -1, 0, Int8.max] { try expectRoundTrip(value) }
        for value in [Int16.min, -1, 0, Int16.max] { try expectRoundTrip(value) }
        for value in [Int32.min, -1, 0, Int32.max] { try expectRoundTrip(value) }
        for value in [Int64.min, -1, 0, Int64.max] { try expectRoundTrip(value) }
        for value in [UInt.min, 1, UInt.max] { try expectRoundTrip(value) }
        for value in [UInt8.min, 1, UInt8.max] { try expectRoundTrip(value) }
        for value in [UInt16.min, 1, UInt16.max] { try expectRoundTrip(value) }
        for value in [UInt32.min, 1, UInt32.max] { try expectRoundTrip(value) }
        for value in [UInt64.min, 1, UInt64.max] { try expectRoundTrip(value) }
    }

    @Test func floatingPointKeepsEveryBit() throws {
        let doubles: [Double] = [
            0, -0.0, 1.5, -2.25, .pi, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            .nan, -.nan, .signalingNaN, Double(nan: 0x1234, signaling: false),
        ]
        for value in doubles {
            #expect(try roundTrip(value).bitPattern == value.bitPattern)
        }
        let floats: [Float] = [
            0, -0.0, 3.5, .infinity, -.infinity, .leastNonzeroMagnitude, .nan, Float(nan: 7, signaling: false),
        ]
        for value in floats {
            #expect(try roundTrip(value).bitPattern == value.bitPattern)
        }
    }

    @Test func boolsAndStringsRoundTrip() throws {
        try expectRoundTrip(true)
        try expectRoundTrip(false)
        let strings = [
            "", "hello", "héllo wörld", "中文字符", "emoji 🎉👨‍👩‍👧‍👦🇫🇷", "nul\u{0}inside", "\u{0}", "\u{10FFFF}",
            String(repeating: "long ", count: 5000),
        ]
        for string in strings { try expectRoundTrip(string) }
    }

    @Test func optionalsRoundTrip() throws {
        try expectRoundTrip(Int?.none)
        try expectRoundTrip(Int?.some(7))
        try expectRoundTrip(String?.some("x"))
        try expectRoundTrip(Int??.some(.some(5)))
        try expectRoundTrip(Int??.none)
        // Like JSON, a single-value container cannot tell .some(nil) from nil: it comes back as nil.
        #expect(try roundTrip(Int??.some(.none)) == .none)
        try expectRoundTrip([1, nil, 3] as [Int?])
        try expectRoundTrip(Point?.some(Point(x: 1, y: 2)))
    }

    @Test func arraysRoundTrip() throws {
        try expectRoundTrip([Int]())
        try expectRoundTrip([1, -2, Int.max, Int.min])
        try expectRoundTrip([1.5, -0.25, 1e300])
        try expectRoundTrip(Array(UInt8.min...UInt8.max))
        try expectRoundTrip(["a", "", "ccc", "🎉"])
        try expectRoundTrip([[1, 2], [], [3]])
        try expectRoundTrip([true, false, true])
        try expectRoundTrip([[String]]([["a"], []]))
        try expectRoundTrip([Point(x: 1, y: 2), Point(x: -1, y: .infinity)])
        try expectRoundTrip(Array(0..<10_000))
    }

    @Test func dictionariesRoundTrip() throws {
        try expectRoundTrip([String: Int]())
        try expectRoundTrip(["one": 1, "two": 2, "": 0])
        try expectRoundTrip([1: "one", -2: "minus two"])
        try expectRoundTrip(["outer": ["inner": [1, 2]], "empty": [:]])
        try expectRoundTrip(["p": Point(x: 3, y: 4)])
        try expectRoundTrip([UInt8(1): true])
    }

    @Test func enumsWithAssociatedValuesRoundTrip() throws {
        let shapes: [Shape] = [
            .circle(radius: 2), .rectangle(width: 3, height: 4), .polygon([Point(x: 0, y: 0)]), .labeled("x", -1),
            .empty,
        ]
        try expectRoundTrip(shapes)
        for shape in shapes { try expectRoundTrip(shape) }
    }

    @Test func nestedStructsRoundTrip() throws {
        try expectRoundTrip(sampleTeam)
        try expectRoundTrip([sampleTeam, sampleTeam])
    }

    @Test func classHierarchyWithSuperEncoderRoundTrips() throws {
        let dog = try roundTrip(Dog(name: "Rex", legs: 4, breed: "Collie"))
        #expect(dog.name == "Rex")
        #expect(dog.legs == 4)
        #expect(dog.breed == "Collie")
        // The superclass's part is a nested value under the key "super".
        let keys = try decoder.decode(KeyLister.self, from: try encoder.encode(Dog(name: "A", legs: 3, breed: "B")))
        #expect(keys.keys.sorted() == ["breed", "super"])
    }

    @Test func classHierarchySharingOneContainerRoundTrips() throws {
        let cat = try roundTrip(Cat(name: "Tom", legs: 4, indoor: true))
        #expect(cat.name == "Tom")
        #expect(cat.legs == 4)
        #expect(cat.indoor)
        let keys = try decoder.decode(KeyLister.self, from: try encoder.encode(Cat(name: "A", legs: 3, indoor: false)))
        #expect(keys.keys.sorted() == ["indoor", "legs", "name"])
    }

    @Test func nestedContainersInterleavedWithTheirParentRoundTrip() throws {
        try expectRoundTrip(Interleaved(a: 1, b: "two", flag: true, x: 3, y: "four", list: [5, 6, 7], deep: 8.5))
        try expectRoundTrip([
            Interleaved(a: -1, b: "", flag: false, x: 0, y: "é", list: [1], deep: -0.5),
            Interleaved(a: 2, b: "b", flag: true, x: 9, y: "y", list: [1, 2], deep: 1),
        ])
    }

    @Test func bitwiseStructsAreSentAsTheirBytes() throws {
        try expectRoundTrip(Point(x: 1.5, y: -2))
        try expectRoundTrip(Padded(tag: 7, value: .max))
        try expectRoundTrip([Padded(tag: 1, value: 2), Padded(tag: 3, value: 4)])
        #expect(try encoder.encode(Point(x: 1, y: 2)).first == WireTag.raw.rawValue)
        #expect(try encoder.encode([Point(x: 1, y: 2)]).first == WireTag.rawArray.rawValue)
        // Raw value: tag, varint size 16, the 16 bytes.
        #expect(try encoder.encode(Point(x: 1, y: 2)).count == 18)
    }

    @Test func omittedOptionalFieldsAreAbsentKeys() throws {
        try expectRoundTrip(Sparse(a: nil, b: nil, c: 3))
        try expectRoundTrip(Sparse(a: 1, b: "b", c: 3))
        let keys = try decoder.decode(KeyLister.self, from: try encoder.encode(Sparse(a: nil, b: "x", c: 3)))
        #expect(keys.keys == ["b", "c"])
    }

    @Test func readersMayIgnoreKeysAndReadThemInAnyOrder() throws {
        let person = sampleTeam.members[0]
        let summary = try decoder.decode(PersonSummary.self, from: try encoder.encode(person))
        #expect(summary == PersonSummary(name: person.name, age: person.age))
        let reversed = try decoder.decode(WideReversed.self, from: try encoder.encode(Wide()))
        #expect(reversed.values == Array((0...11).reversed()))
    }

    @Test func largeIntegersTravelAsRawValues() throws {
        if #available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *) {
            try expectRoundTrip(Int128.min)
            try expectRoundTrip(UInt128.max)
            try expectRoundTrip([Int128(1), -1])
        }
    }

    @Test func userInfoReachesEncodeAndDecode() throws {
        var encoder = BinaryEncoder()
        encoder.userInfo[UserInfoEcho.key] = "sent"
        var decoder = BinaryDecoder()
        decoder.userInfo[UserInfoEcho.key] = "received"
        let value = try decoder.decode(UserInfoEcho.self, from: try encoder.encode(UserInfoEcho(seen: "")))
        #expect(value.seen == "sent/received")
    }

    @Test func codingPathsAreReportedWhileCoding() throws {
        let recorders = try roundTrip(["a": [PathRecorder(), PathRecorder()]])
        let second = try #require(recorders["a"]?.last)
        #expect(second.encodedAt == "a/Index 1")
        #expect(second.decodedAt == "a/Index 1")
        let holder = try roundTrip([PathHolder()])[0]
        #expect(holder.nested.encodedAt == "Index 0/box/value")
        #expect(holder.nested.decodedAt == "Index 0/box/value")
        #expect(holder.inList.encodedAt == "Index 0/list/Index 0")
        #expect(holder.inList.decodedAt == "Index 0/list/Index 0")
        #expect(holder.inSuper.encodedAt == "Index 0/super")
        #expect(holder.inSuper.decodedAt == "Index 0/super")
    }

    @Test func encodeIntoAppendsToTheBuffer() throws {
        var buffer: [UInt8] = [0xAA, 0xBB]
        try encoder.encode(sampleTeam, into: &buffer)
        try encoder.encode(42, into: &buffer)
        #expect(Array(buffer.prefix(2)) == [0xAA, 0xBB])
        let teamBytes = try encoder.encode(sampleTeam)
        #expect(Array(buffer[2..<(2 + teamBytes.count)]) == teamBytes)
        let team = try buffer.withUnsafeBytes {
            try decoder.decode(Team.self, from: UnsafeRawBufferPointer(rebasing: $0[2..<(2 + teamBytes.count)]))
        }
        #expect(team == sampleTeam)
        #expect(try decoder.decode(Int.self, from: Array(buffer.suffix(9))) == 42)
    }

    @Test func encodingErrorsPassThroughAndLeaveTheBufferUnchanged() throws {
        var buffer: [UInt8] = [1, 2, 3]
        #expect(throws: Unencodable.Failure.self) { try encoder.encode([Unencodable()], into: &buffer) }
        #expect(buffer == [1, 2, 3])
        let error = #expect(throws: CodecError.self) { _ = try encoder.encode(TwoValues()) }
        #expect(error?.code == .unsupported)
    }

    @Test func wireFormatIsAsDocumented() throws {
        #expect(try encoder.encode(Int?.none) == [0x00])
        #expect(try encoder.encode(false) == [0x01])
        #expect(try encoder.encode(true) == [0x02])
        #expect(try encoder.encode(1) == [0x13, 1, 0, 0, 0, 0, 0, 0, 0])
        #expect(try encoder.encode(UInt8(5)) == [0x18, 5])
        #expect(try encoder.encode(Int16(-2)) == [0x11, 0xFE, 0xFF])
        #expect(try encoder.encode(1.0 as Float) == [0x20] + littleEndian((1.0 as Float).bitPattern))
        #expect(try encoder.encode("hi") == [0x30, 2, 0x68, 0x69])
        #expect(try encoder.encode([7 as UInt8, 8]) == [0x41, 2, 1, 7, 8])
        #expect(
            try encoder.encode(["a"]) == [0x51] + littleEndian(UInt64(7)) + littleEndian(UInt32(1)) + [0x30, 1, 0x61]
        )
        #expect(
            try encoder.encode(Named(name: "n"))
                == [0x50] + littleEndian(UInt64(12)) + littleEndian(UInt32(1)) + [4] + Array("name".utf8) + [
                    0x30, 1, 0x6E,
                ]
        )
        #expect(try encoder.encode(Nest(children: [])) == [0x51] + littleEndian(UInt64(4)) + littleEndian(UInt32(0)))
    }

    @Test func randomNestedValuesRoundTrip() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("Binary codec property test seed: \(seed)")
        var rng = SplitMix64(state: seed)
        for iteration in 0..<2000 {
            let value = randomValue(&rng, depth: 0)
            let decoded = try roundTrip(value)
            #expect(decoded == value, "seed \(seed), iteration \(iteration)")
            if decoded != value { break }
        }
    }

    // MARK: Malformed input

    @Test func everyTruncationThrowsCodecError() throws {
        let bytes = try encoder.encode(sampleTeam)
        for length in 0..<bytes.count {
            #expect(throws: CodecError.self, "prefix of \(length) bytes") {
                _ = try decoder.decode(Team.self, from: Array(bytes.prefix(length)))
            }
        }
        let valueBytes = try encoder.encode(Value.array([.dictionary(["k": .optional(.bytes([1, 2]))]), .null]))
        for length in 0..<valueBytes.count {
            #expect(throws: CodecError.self) {
                _ = try decoder.decode(Value.self, from: Array(valueBytes.prefix(length)))
            }
        }
    }

    @Test func randomByteFlipsDecodeOrThrowButNeverCrash() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("Binary codec byte-flip seed: \(seed)")
        var rng = SplitMix64(state: seed)
        var originals = [try encoder.encode(sampleTeam)]
        for _ in 0..<20 { originals.append(try encoder.encode(randomValue(&rng, depth: 0))) }
        for _ in 0..<3000 {
            var bytes = originals.randomElement(using: &rng)!
            guard !bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            // Whatever decodes must survive another round trip unchanged. A flipped Double or
            // Float may be a NaN, which no Equatable comparison calls equal: those are skipped.
            if let value = try? decoder.decode(Value.self, from: bytes), !value.containsNaN {
                #expect(try roundTrip(value) == value, "seed \(seed)")
            }
            _ = try? decoder.decode(Team.self, from: bytes)
        }
    }

    @Test func hugeLengthsThrowWithoutAllocating() throws {
        let huge: UInt64 = 1 << 60
        var string: [UInt8] = [WireTag.string.rawValue]
        appendVarint(huge, to: &string)
        string += [0x61, 0x62]
        #expect(decodeError(String.self, from: string)?.code == .invalidValue)

        var rawArray: [UInt8] = [WireTag.rawArray.rawValue]
        appendVarint(huge, to: &rawArray)
        appendVarint(8, to: &rawArray)
        #expect(decodeError([Int].self, from: rawArray + [1, 2, 3])?.code == .invalidValue)

        var unkeyed: [UInt8] = [WireTag.unkeyed.rawValue] + littleEndian(huge) + littleEndian(UInt32(3))
        #expect(decodeError([String].self, from: unkeyed)?.code == .invalidValue)
        unkeyed = [WireTag.unkeyed.rawValue] + littleEndian(UInt64(8)) + littleEndian(UInt32.max) + [0, 0, 0, 0]
        #expect(decodeError([String].self, from: unkeyed)?.code == .invalidValue)

        let keyed = [WireTag.keyed.rawValue] + littleEndian(UInt64(6)) + littleEndian(UInt32(1_000_000)) + [1, 0x61]
        #expect(decodeError([String: Int].self, from: keyed)?.code == .invalidValue)

        var overflow: [UInt8] = [WireTag.rawArray.rawValue]
        appendVarint(UInt64.max / 2, to: &overflow)
        appendVarint(8, to: &overflow)
        #expect(decodeError([Int].self, from: overflow)?.code == .invalidValue)

        let longVarint: [UInt8] = [WireTag.string.rawValue] + Array(repeating: 0xFF, count: 11)
        #expect(decodeError(String.self, from: longVarint)?.code == .invalidValue)
    }

    @Test func wrongTagsThrowTypeMismatch() throws {
        #expect(decodeError(Int.self, from: try encoder.encode("x"))?.code == .typeMismatch)
        #expect(decodeError(Int.self, from: try encoder.encode(Int32(1)))?.code == .typeMismatch)
        #expect(decodeError(UInt.self, from: try encoder.encode(1))?.code == .typeMismatch)
        #expect(decodeError([String].self, from: try encoder.encode([1, 2]))?.code == .typeMismatch)
        #expect(decodeError(Person.self, from: try encoder.encode(["a"]))?.code == .typeMismatch)
        #expect(decodeError(Point.self, from: try encoder.encode(1.5))?.code == .typeMismatch)
        // Int and Int64 share a tag, as do UInt and UInt64.
        #expect(try decoder.decode(Int64.self, from: try encoder.encode(-5)) == -5)
        #expect(try decoder.decode(UInt.self, from: try encoder.encode(UInt64(5))) == 5)
    }

    @Test func elementSizeMismatchIsInvalid() throws {
        // A raw array of 2-byte elements read as 8-byte ones, and a raw value of the wrong size.
        #expect(decodeError([Int].self, from: try encoder.encode([UInt16(1), 2]))?.code == .invalidValue)
        #expect(decodeError(Point.self, from: try encoder.encode(Tiny(a: 1)))?.code == .invalidValue)
    }

    @Test func deepNestingThrowsNestingTooDeep() throws {
        let levels = 100_000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * 13)
        for level in 0..<levels {
            let total = 13 * (levels - level)
            bytes.append(WireTag.unkeyed.rawValue)
            bytes += littleEndian(UInt64(total - 9))
            bytes += littleEndian(UInt32(level == levels - 1 ? 0 : 1))
        }
        #expect(decodeError(Nest.self, from: bytes)?.code == .nestingTooDeep)
        #expect(decodeError(Value.self, from: bytes) != nil)

        var shallow = BinaryDecoder()
        shallow.maximumDepth = 3
        let three = Nest(children: [Nest(children: [Nest(children: [])])])
        #expect(try shallow.decode(Nest.self, from: try encoder.encode(three)) == three)
        let error = #expect(throws: CodecError.self) {
            _ = try shallow.decode(Nest.self, from: try encoder.encode(Nest(children: [three])))
        }
        #expect(error?.code == .nestingTooDeep)
    }

    @Test func trailingBytesThrow() throws {
        #expect(decodeError(Int.self, from: try encoder.encode(5) + [0])?.code == .trailingBytes)
        #expect(decodeError(Team.self, from: try encoder.encode(sampleTeam) + [0x13])?.code == .trailingBytes)
        #expect(decodeError(Int.self, from: [])?.code == .truncated)
    }

    @Test func boolBytesOtherThanTheBoolTagsThrow() throws {
        #expect(decodeError(Bool.self, from: [7])?.code == .invalidValue)
        #expect(decodeError(Bool.self, from: [0xFF])?.code == .invalidValue)
        #expect(decodeError(Bool.self, from: try encoder.encode(1))?.code == .typeMismatch)
        #expect(decodeError(Bool.self, from: [0x00])?.code == .valueNotFound)
    }

    @Test func invalidUTF8Throws() throws {
        let bodies: [[UInt8]] = [
            [0xC3, 0x28], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xE2, 0x82],
        ]
        for body in bodies {
            var bytes: [UInt8] = [WireTag.string.rawValue, UInt8(body.count)]
            bytes += body
            #expect(decodeError(String.self, from: bytes)?.code == .invalidValue)
            // The same in a key.
            var keyed = [WireTag.keyed.rawValue] + littleEndian(UInt64(4 + 1 + body.count + 2))
            keyed += littleEndian(UInt32(1))
            keyed += [UInt8(body.count)] + body + [0x18, 1]
            #expect(decodeError([String: UInt8].self, from: keyed)?.code == .invalidValue)
        }
    }

    @Test func missingKeysAndValuesThrow() throws {
        let summary = try encoder.encode(PersonSummary(name: "A", age: 1))
        #expect(decodeError(Person.self, from: summary)?.code == .keyNotFound)
        #expect(decodeError(Int.self, from: try encoder.encode(Int?.none))?.code == .valueNotFound)
        // A keyed container nested in an enum case without all its keys.
        #expect(decodeError(Shape.self, from: try encoder.encode(["rectangle": ["width": 1.0]]))?.code == .keyNotFound)
        // An unkeyed container read past its end.
        #expect(decodeError(TwoInts.self, from: try encoder.encode([1] as [Int?]))?.code == .valueNotFound)
        #expect(decodeError(Point?.self, from: [WireTag.empty.rawValue])?.code == .typeMismatch)
    }

    @Test func errorsNameTheirCodingPath() throws {
        let bytes = try encoder.encode(NamedList(items: [Named(name: "ok"), Named(name: "bad")]))
        // Corrupt the second name's string tag.
        let index = try #require(bytes.lastIndex(of: WireTag.string.rawValue))
        var corrupt = bytes
        corrupt[index] = WireTag.int8.rawValue
        let error = decodeError(NamedList.self, from: corrupt)
        #expect(error?.code == .typeMismatch)
        #expect(error?.codingPath == "items[1].name")
    }

    @Test func decodingErrorsFromInitFromPropagateUntouched() throws {
        try expectRoundTrip(Even(4))
        #expect(throws: DecodingError.self) { _ = try decoder.decode(Even.self, from: try encoder.encode(3)) }
        do {
            _ = try decoder.decode(EvenHolder.self, from: try encoder.encode(["even": 5]))
            Issue.record("decoding an odd number succeeded")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.codingPath.map(\.stringValue) == ["even"])
            #expect(context.debugDescription == "5 is odd")
        }
    }
}
