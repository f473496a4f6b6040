/// An error from ``BinaryEncoder`` or ``BinaryDecoder``: malformed or truncated input, a value of the wrong type,
/// or a value the wire format cannot express.
///
/// Compare ``code`` rather than the description; codes are extensible, so a `switch` over them needs a `default`
/// case. Errors thrown by a type's own `init(from:)` or `encode(to:)` (such as the standard library's
/// `DecodingError`) pass through the codec untouched and are not wrapped in a `CodecError`.
public struct CodecError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case truncated
            case typeMismatch
            case invalidValue
            case keyNotFound
            case valueNotFound
            case nestingTooDeep
            case trailingBytes
            case unsupported
        }

        let storage: Storage

        /// The input ended in the middle of a value.
        public static var truncated: Self { Self(storage: .truncated) }
        /// The input holds a different type than the one requested (its type tag does not match).
        public static var typeMismatch: Self { Self(storage: .typeMismatch) }
        /// The input is malformed: bad UTF-8, a `Bool` byte other than 0 or 1, a length larger than the remaining
        /// input, an element size that does not match this binary's layout, an unknown tag, or an overflow.
        public static var invalidValue: Self { Self(storage: .invalidValue) }
        /// A keyed container has no entry for the requested key.
        public static var keyNotFound: Self { Self(storage: .keyNotFound) }
        /// A value was requested where the input holds `nil`, or past the end of an unkeyed container.
        public static var valueNotFound: Self { Self(storage: .valueNotFound) }
        /// Containers are nested deeper than ``BinaryDecoder/maximumDepth``.
        public static var nestingTooDeep: Self { Self(storage: .nestingTooDeep) }
        /// Input is left over after the top-level value.
        public static var trailingBytes: Self { Self(storage: .trailingBytes) }
        /// The encoder was used in a way the wire format cannot express (for example two values written to one
        /// single-value container, or more than `UInt32.max` entries in one container).
        public static var unsupported: Self { Self(storage: .unsupported) }

        public var description: String {
            switch storage {
            case .truncated: "truncated input"
            case .typeMismatch: "type mismatch"
            case .invalidValue: "invalid value"
            case .keyNotFound: "key not found"
            case .valueNotFound: "value not found"
            case .nestingTooDeep: "nesting too deep"
            case .trailingBytes: "trailing bytes"
            case .unsupported: "unsupported"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// What the codec was doing or found, in words (for example `expected int64, found string`).
    public let context: String
    /// Where in the value the error happened, as keys and indices (`items[3].name`); empty at the top level.
    public let codingPath: String
    /// Whether ``codingPath`` has been filled in; the innermost container that sees the error sets it once.
    let isLocated: Bool

    init(_ code: Code, _ context: String, codingPath: String = "", isLocated: Bool = false) {
        self.code = code
        self.context = context
        self.codingPath = codingPath
        self.isLocated = isLocated
    }

    /// A copy of this error carrying `path` as its ``codingPath``.
    func located(at path: String) -> Self {
        Self(code, context, codingPath: path, isLocated: true)
    }

    public var description: String {
        var text = "CodecError(\(code)): \(context)"
        if !codingPath.isEmpty { text += " at \(codingPath)" }
        return text
    }
}
