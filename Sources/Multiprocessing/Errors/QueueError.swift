/// An error from a ``ProcessQueue`` or ``JoinableProcessQueue``, beyond the codec's and the
/// shared memory's own.
///
/// Compare ``code`` rather than the description; codes are extensible.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case closed
            case tooManyTaskDone
        }

        let storage: Storage

        /// The queue was closed: a `put` is refused, and a `get` finds it closed and empty.
        public static var closed: Self { Self(storage: .closed) }
        /// `taskDone()` was called more times than elements were put: Python's `ValueError`.
        public static var tooManyTaskDone: Self { Self(storage: .tooManyTaskDone) }

        public var description: String {
            switch storage {
            case .closed: "closed"
            case .tooManyTaskDone: "taskDone called too many times"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// What the library was doing, in words.
    public let context: String

    init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "QueueError.\(code): \(context)" }
}
