// libFuzzer target for BinaryDecoder. Build it together with the codec sources (no package, no other files):
//
//   swiftc -sanitize=fuzzer,address -parse-as-library -O \
//       Sources/Multiprocessing/Codec/*.swift Sources/Multiprocessing/Errors/CodecError.swift \
//       Fuzz/FuzzDecoder.swift -o /tmp/fuzz-decoder
//
// and run it on a scratch copy of the seed corpus, so that new inputs are not written into the repository:
//
//   cp -r Fuzz/corpus/decoder /tmp/fuzz-corpus && /tmp/fuzz-decoder -max_total_time=60 /tmp/fuzz-corpus
//
// Every input is decoded as `FuzzValue`, a recursive type that reaches every container kind and primitive. Decoding
// may fail but must never crash; when it succeeds, the value must survive another encode and decode unchanged.

/// A `Double` compared by its bits, so that NaNs (and the sign of zero) take part in the round-trip check.
struct ExactDouble: Codable, Equatable {
    var value: Double

    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Double.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.value.bitPattern == rhs.value.bitPattern }
}

/// A `Float` compared by its bits.
struct ExactFloat: Codable, Equatable {
    var value: Float

    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Float.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.value.bitPattern == rhs.value.bitPattern }
}

/// Sent as its bytes (a raw value; arrays of it are raw arrays).
struct FuzzPoint: BitwiseCodable, Equatable {
    var x: Int32
    var y: UInt16
}

/// Optional fields, so absent keys and `decodeIfPresent` are exercised.
struct Record: Codable, Equatable {
    var id: UInt64
    var name: String?
    var ratio: ExactFloat?
    var flags: [Bool]
}

/// Uses the less common parts of the Codable API: nested keyed and unkeyed containers, super encoders, nils in
/// unkeyed containers, and reads in an order other than the written one.
struct Layered: Codable, Equatable {
    var a: Int8
    var b: [Int16?]
    var c: [String: UInt32]
    var parent: [FuzzValue]

    private enum Keys: String, CodingKey { case a, nested, list, parent }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        var list = try container.nestedUnkeyedContainer(forKey: .list)
        var b: [Int16?] = []
        while !list.isAtEnd {
            b.append(try list.decodeNil() ? nil : try list.decode(Int16.self))
        }
        self.b = b
        let nested = try container.nestedContainer(keyedBy: AnyKey.self, forKey: .nested)
        var c: [String: UInt32] = [:]
        for key in nested.allKeys { c[key.stringValue] = try nested.decode(UInt32.self, forKey: key) }
        self.c = c
        a = try container.decode(Int8.self, forKey: .a)
        parent = try [FuzzValue](from: container.superDecoder(forKey: .parent))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var nested = container.nestedContainer(keyedBy: AnyKey.self, forKey: .nested)
        var list = container.nestedUnkeyedContainer(forKey: .list)
        try container.encode(a, forKey: .a)
        for element in b {
            if let element { try list.encode(element) } else { try list.encodeNil() }
        }
        for (key, value) in c { try nested.encode(value, forKey: AnyKey(stringValue: key)) }
        try parent.encode(to: container.superEncoder(forKey: .parent))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The fuzzed type: every primitive, raw values and arrays, arrays, both kinds of dictionary, optionals, sets and
/// custom containers, recursively.
indirect enum FuzzValue: Codable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case uint(UInt)
    case uint8(UInt8)
    case uint16(UInt16)
    case uint32(UInt32)
    case uint64(UInt64)
    case float(ExactFloat)
    case double(ExactDouble)
    case string(String)
    case bytes([UInt8])
    case integers([Int])
    case point(FuzzPoint)
    case points([FuzzPoint])
    case array([FuzzValue])
    case dictionary([String: FuzzValue])
    case numbered([Int: FuzzValue])
    case optional(FuzzValue?)
    case set(Set<String>)
    case record(Record)
    case layered(Layered)
    case pair(FuzzValue, second: FuzzValue)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let value = try? BinaryDecoder().decode(FuzzValue.self, from: input) else { return 0 }
    do {
        let encoded = try BinaryEncoder().encode(value)
        let decoded = try BinaryDecoder().decode(FuzzValue.self, from: encoded)
        precondition(decoded == value, "round trip changed \(value) into \(decoded)")
    } catch {
        preconditionFailure("a decoded value failed to round-trip: \(error) for \(value)")
    }
    return 0
}
