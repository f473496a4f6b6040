/// An error from a ``Manager`` or one of its proxies: the server is gone, the object does not hold
/// what was asked for, or the request was refused.
///
/// Compare ``code`` rather than the description; codes are extensible.
public struct ManagerError: Error, Sendable, Codable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, Codable, CustomStringConvertible {
        enum Storage: String, Hashable, Sendable, Codable {
            case serverUnreachable
            case indexOutOfRange
            case keyNotFound
            case empty
            case objectNotFound
            case wrongKind
            case undecodable
            case timedOut
            case remoteFailure
        }

        let storage: Storage

        /// The manager's server could not be reached, or went away during a call (the call may or
        /// may not have taken effect).
        public static var serverUnreachable: Self { Self(storage: .serverUnreachable) }
        /// A list index outside `0..<count` (Python's `IndexError`).
        public static var indexOutOfRange: Self { Self(storage: .indexOutOfRange) }
        /// A dictionary key that is not there (Python's `KeyError`).
        public static var keyNotFound: Self { Self(storage: .keyNotFound) }
        /// A value that was never set, or a queue or list with nothing to take.
        public static var empty: Self { Self(storage: .empty) }
        /// The object is not (or no longer) in the server.
        public static var objectNotFound: Self { Self(storage: .objectNotFound) }
        /// The object is of another kind than the proxy expects (a list used as a dictionary).
        public static var wrongKind: Self { Self(storage: .wrongKind) }
        /// A value or request could not be decoded: a type mismatch between proxies, or a hostile peer.
        public static var undecodable: Self { Self(storage: .undecodable) }
        /// A wait with a timeout ran out.
        public static var timedOut: Self { Self(storage: .timedOut) }
        /// A hosted object's own code threw; the description holds its error.
        public static var remoteFailure: Self { Self(storage: .remoteFailure) }

        public var description: String { storage.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// What the manager was doing, in words.
    public let context: String

    init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "ManagerError.\(code): \(context)" }
}
