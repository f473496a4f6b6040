public import SystemPackage

/// An error from starting, waiting for or talking to a ``ChildProcess``.
///
/// Compare ``code`` rather than the description; codes are extensible.
public struct ProcessError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        package enum Storage: Hashable, Sendable, Codable {
            case alreadyStarted
            case notStarted
            case unsupportedTaskType
            case unknownTaskType
            case taskDecodingFailed
            case outputEncodingFailed
            case exitedWithoutResult
            case startFailed
            case systemCallFailed
            case stillRunning
        }

        package let storage: Storage

        /// ``ChildProcess/start()`` was called twice.
        public static var alreadyStarted: Self { Self(storage: .alreadyStarted) }
        /// The call needs a started process.
        public static var notStarted: Self { Self(storage: .notStarted) }
        /// The task's type cannot be found by name (a `private` or local type): rejected in the parent.
        public static var unsupportedTaskType: Self { Self(storage: .unsupportedTaskType) }
        /// The child could not find the task's type by its name, or it is not a ``ParallelTask``.
        public static var unknownTaskType: Self { Self(storage: .unknownTaskType) }
        /// The child found the type but could not decode the task.
        public static var taskDecodingFailed: Self { Self(storage: .taskDecodingFailed) }
        /// The child ran the task but could not encode its output.
        public static var outputEncodingFailed: Self { Self(storage: .outputEncodingFailed) }
        /// The child ended (crashed, was killed, or called `exit`) without delivering a result;
        /// ``ProcessError/exitStatus`` says how it ended.
        public static var exitedWithoutResult: Self { Self(storage: .exitedWithoutResult) }
        /// The child could not be started.
        public static var startFailed: Self { Self(storage: .startFailed) }
        /// A system call failed; ``ProcessError/underlyingError`` holds its `errno`.
        public static var systemCallFailed: Self { Self(storage: .systemCallFailed) }
        /// The call needs a process that has ended (``ChildProcess/close()`` before a join).
        public static var stillRunning: Self { Self(storage: .stillRunning) }

        public var description: String {
            switch storage {
            case .alreadyStarted: "already started"
            case .notStarted: "not started"
            case .unsupportedTaskType: "unsupported task type"
            case .unknownTaskType: "unknown task type"
            case .taskDecodingFailed: "task decoding failed"
            case .outputEncodingFailed: "output encoding failed"
            case .exitedWithoutResult: "exited without result"
            case .startFailed: "start failed"
            case .systemCallFailed: "system call failed"
            case .stillRunning: "still running"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The process concerned, if it had a pid.
    public let pid: Int32?
    /// How the process ended, for ``Code-swift.struct/exitedWithoutResult``.
    public let exitStatus: ExitStatus?
    /// The `errno` of a failed system call.
    public let underlyingError: Errno?
    /// What happened, in words: the task type name, the call that failed.
    public let context: String

    init(
        _ code: Code,
        _ context: String,
        pid: Int32? = nil,
        exitStatus: ExitStatus? = nil,
        underlyingError: Errno? = nil
    ) {
        self.code = code
        self.context = context
        self.pid = pid
        self.exitStatus = exitStatus
        self.underlyingError = underlyingError
    }

    init(_ failure: SystemCallError, pid: Int32? = nil) {
        self.init(.systemCallFailed, failure.call, pid: pid, underlyingError: failure.errno)
    }

    public var description: String {
        var text = "ProcessError(\(code)): \(context)"
        if let pid { text += " [pid \(pid)]" }
        if let exitStatus { text += " [\(exitStatus)]" }
        if let underlyingError { text += " (\(underlyingError))" }
        return text
    }
}
