import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// Whether `pid` is gone for good from this process's point of view: not our child any more (no
/// zombie left to reap) and not running.
public func isReaped(_ pid: Int32) -> Bool {
    var status: CInt = 0
    let waited = waitpid(pid, &status, WNOHANG)
    let notOurChild = waited == -1 && errno == ECHILD
    let gone = kill(pid, 0) == -1 && errno == ESRCH
    return notOurChild && (gone || isZombieOfAnotherParent(pid))
}

/// A process that exited but whose new parent (init, here) has not reaped it yet.
private func isZombieOfAnotherParent(_ pid: pid_t) -> Bool {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return true }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, 512, file) != nil else { return true }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = line.lastIndex(of: ")") else { return false }
    let state = line[line.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// Waits up to `milliseconds` for the process `pid` (not necessarily our child) to exit, using a
/// pidfd, which becomes readable when the process has exited. Returns whether it exited.
public func waitForExit(of pid: Int32, milliseconds: Int32) -> Bool {
    let pidfd = mpshim_pidfd_open(pid)
    if pidfd < 0 { return errno == ESRCH }
    defer { close(pidfd) }
    var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, milliseconds) == 1
}
