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
