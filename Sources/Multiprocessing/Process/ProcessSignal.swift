#if canImport(Glibc)
import Glibc
#endif

/// A signal to send to a child with ``ChildProcess/signal(_:)``: a typed wrapper over the C number.
public struct ProcessSignal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C signal number (`SIGTERM` is 15 on Linux).
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `SIGTERM`: asks the process to end (Python's `terminate()`).
    public static let terminate = ProcessSignal(rawValue: SIGTERM)
    /// `SIGKILL`: ends the process at once; it cannot be caught (Python's `kill()`).
    public static let kill = ProcessSignal(rawValue: SIGKILL)
    /// `SIGINT`: what Ctrl-C sends.
    public static let interrupt = ProcessSignal(rawValue: SIGINT)
    /// `SIGHUP`.
    public static let hangup = ProcessSignal(rawValue: SIGHUP)
    /// `SIGQUIT`.
    public static let quit = ProcessSignal(rawValue: SIGQUIT)
    /// `SIGUSR1`.
    public static let user1 = ProcessSignal(rawValue: SIGUSR1)
    /// `SIGUSR2`.
    public static let user2 = ProcessSignal(rawValue: SIGUSR2)
    /// `SIGSTOP`: suspends the process; it cannot be caught.
    public static let stop = ProcessSignal(rawValue: SIGSTOP)
    /// `SIGCONT`: resumes a stopped process.
    public static let `continue` = ProcessSignal(rawValue: SIGCONT)

    public var description: String {
        switch rawValue {
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGSTOP: "SIGSTOP"
        case SIGCONT: "SIGCONT"
        default: "signal \(rawValue)"
        }
    }
}
