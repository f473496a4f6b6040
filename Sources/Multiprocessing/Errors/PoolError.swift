/// An error from a ``ProcessPool`` about the pool itself, not about a task (a task's own error
/// reaches its caller as itself).
///
/// Compare ``code`` rather than the description; codes are extensible.
public struct PoolError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case workerCrashed
            case timedOut
            case closed
        }

        let storage: Storage

        /// The worker running the task died (a signal, `exit`, out of memory). Only this task
        /// failed; the worker was replaced. ``PoolError/exitStatus`` says how it ended.
        public static var workerCrashed: Self { Self(storage: .workerCrashed) }
        /// The task ran past its timeout; its worker was stopped (TERM, a grace period, KILL) and
        /// replaced.
        public static var timedOut: Self { Self(storage: .timedOut) }
        /// The pool was closed or terminated: it takes no more work.
        public static var closed: Self { Self(storage: .closed) }

        public var description: String {
            switch storage {
            case .workerCrashed: "worker crashed"
            case .timedOut: "timed out"
            case .closed: "closed"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// What the pool was doing, in words (the task's type and the worker's name).
    public let context: String
    /// How the worker ended, for ``Code-swift.struct/workerCrashed``.
    public let exitStatus: ExitStatus?

    package init(_ code: Code, _ context: String, exitStatus: ExitStatus? = nil) {
        self.code = code
        self.context = context
        self.exitStatus = exitStatus
    }

    public var description: String {
        "PoolError.\(code): \(context)" + (exitStatus.map { " (\($0))" } ?? "")
    }
}
