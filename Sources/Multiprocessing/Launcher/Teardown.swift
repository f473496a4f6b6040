#if canImport(Glibc)
import Glibc
#endif

/// The bounded way to end a child: `SIGTERM`, a grace period, then `SIGKILL`, then reap.
enum Teardown {
    /// Ends the child behind `pidfd` and reaps it. Returns how it ended, or `nil` if someone else reaped it.
    @discardableResult
    static func terminate(pidfd: CInt, grace: Duration) -> ExitStatus? {
        try? system_pidfd_send_signal(pidfd, SIGTERM)
        let exited = (try? system_poll(pidfd, until: Deadline(timeout: grace))).map { $0 != 0 } ?? false
        if !exited { try? system_pidfd_send_signal(pidfd, SIGKILL) }
        return try? system_waitid(pidfd: pidfd, noHang: false)
    }
}
