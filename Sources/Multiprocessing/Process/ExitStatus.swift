/// How a child process ended, decoded once from the kernel's wait status.
///
/// Python's `Process.exitcode` folds both cases into one integer (negative for signals);
/// here they are two cases, as in swift-subprocess's `TerminationStatus`.
public enum ExitStatus: Hashable, Sendable, CustomStringConvertible {
    /// The process called `exit` (or returned from `main`) with this code.
    case exited(Int32)
    /// The process was ended by this signal (for example `SIGKILL` = 9).
    case signaled(Int32)

    /// Whether the process exited with code 0.
    public var isSuccess: Bool { self == .exited(0) }

    /// Python's `exitcode`: the exit code, or the negated signal number.
    public var pythonExitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): -signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited(\(code))"
        case .signaled(let signal): "signaled(\(signal))"
        }
    }
}
