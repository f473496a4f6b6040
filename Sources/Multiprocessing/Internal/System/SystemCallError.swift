import SystemPackage

/// A failed system call: which call, and the `errno` it left.
///
/// Internal: each area turns it into its own public error (``ConnectionError``, ``ProcessError``)
/// with the context a user needs, keeping `errno` as `underlyingError`.
struct SystemCallError: Error, CustomStringConvertible {
    let call: String
    let errno: Errno

    var description: String { "\(call): \(errno)" }

    /// Whether the call would have blocked on a non-blocking descriptor (`EAGAIN`/`EWOULDBLOCK`).
    var wouldBlock: Bool { errno == .resourceTemporarilyUnavailable || errno == .wouldBlock }
}
