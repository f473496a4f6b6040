#if canImport(Glibc)
import Glibc
#endif

/// The bounded way to end a child: `SIGTERM`, a grace period, then `SIGKILL`, then reap.
enum Teardown {
    /// Ends `child` and reaps it. Returns how it ended, or `nil` if someone else reaped it.
    @discardableResult
    static func terminate(_ child: LaunchedChild, grace: Duration) -> ExitStatus? {
        try? system_pidfd_send_signal(child.pidfd, SIGTERM)
        let exited = (try? system_poll(child.pidfd, until: Deadline(timeout: grace))).map { $0 != 0 } ?? false
        if !exited { try? system_pidfd_send_signal(child.pidfd, SIGKILL) }
        return try? child.waitForExit(noHang: false)
    }
}
