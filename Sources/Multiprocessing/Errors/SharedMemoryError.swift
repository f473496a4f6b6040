public import SystemPackage

/// An error from creating, attaching or passing shared memory (``SharedMemory``, ``SharedValue``,
/// ``SharedArray``) or a lock that lives in it.
///
/// Compare ``code`` rather than the description; codes are extensible.
public struct SharedMemoryError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case alreadyExists
            case notFound
            case sizeMismatch
            case invalidArgument
            case notRecoverable
            case brokenBarrier
            case systemCallFailed
        }

        let storage: Storage

        /// A named segment with this name exists already (create with a fresh name, or attach).
        public static var alreadyExists: Self { Self(storage: .alreadyExists) }
        /// No named segment has this name.
        public static var notFound: Self { Self(storage: .notFound) }
        /// The segment is smaller than the size asked for, or than its contents need.
        public static var sizeMismatch: Self { Self(storage: .sizeMismatch) }
        /// A size, count or name that cannot be used (negative, zero, too long, with a `/`).
        public static var invalidArgument: Self { Self(storage: .invalidArgument) }
        /// A lock whose holder died was not made consistent and can no longer be used.
        public static var notRecoverable: Self { Self(storage: .notRecoverable) }
        /// A ``ProcessBarrier`` was broken: a waiter timed out (or it was reset) before all arrived.
        /// Python's `BrokenBarrierError`.
        public static var brokenBarrier: Self { Self(storage: .brokenBarrier) }
        /// A system call failed; ``SharedMemoryError/underlyingError`` holds its `errno`.
        public static var systemCallFailed: Self { Self(storage: .systemCallFailed) }

        public var description: String {
            switch storage {
            case .alreadyExists: "already exists"
            case .notFound: "not found"
            case .sizeMismatch: "size mismatch"
            case .invalidArgument: "invalid argument"
            case .notRecoverable: "not recoverable"
            case .brokenBarrier: "broken barrier"
            case .systemCallFailed: "system call failed"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The `errno` of the failed system call, if one failed.
    public let underlyingError: Errno?
    /// What the library was doing, in words.
    public let context: String

    init(_ code: Code, _ context: String, underlyingError: Errno? = nil) {
        self.code = code
        self.context = context
        self.underlyingError = underlyingError
    }

    init(_ failure: SystemCallError, _ context: String) {
        switch failure.errno {
        case .fileExists: self.init(.alreadyExists, context, underlyingError: failure.errno)
        case .noSuchFileOrDirectory: self.init(.notFound, context, underlyingError: failure.errno)
        case .invalidArgument, .fileNameTooLong:
            self.init(.invalidArgument, "\(context): \(failure.call)", underlyingError: failure.errno)
        default: self.init(.systemCallFailed, "\(context): \(failure.call)", underlyingError: failure.errno)
        }
    }

    public var description: String {
        var text = "SharedMemoryError(\(code)): \(context)"
        if let underlyingError { text += " (\(underlyingError))" }
        return text
    }
}
