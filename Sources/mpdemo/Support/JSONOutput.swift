import Foundation

/// A JSON object that keeps its keys in the order they were added, so output reads like the slide.
struct JSONObject {
    private(set) var entries: [(String, Any)] = []

    subscript(key: String) -> Any? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            entries.removeAll { $0.0 == key }
            if let newValue { entries.append((key, newValue)) }
        }
    }

    var text: String {
        "{" + entries.map { "\(Self.encode($0.0)): \(Self.encode($0.1))" }.joined(separator: ", ") + "}"
    }

    private static func encode(_ value: Any) -> String {
        switch value {
        case let object as JSONObject: return object.text
        case let string as String:
            let data = try! JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed])
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        case let bool as Bool: return bool ? "true" : "false"
        case let int as Int: return String(int)
        case let double as Double: return double.isFinite ? String(double) : "null"
        case let array as [Any]: return "[" + array.map(encode).joined(separator: ", ") + "]"
        case Optional<Any>.none: return "null"
        case is NSNull: return "null"
        default: return encode(String(describing: value))
        }
    }
}
