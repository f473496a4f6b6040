// The one place that makes system calls. Each `system_<name>` reads `errno` at once, retries `EINTR`
// where the call may be retried, and throws a `SystemCallError` naming the call. Kept `@inline(never)`
// (as swift-nio does) so no ARC traffic between the call and the read of `errno` can change it.

import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

@inline(never)
func valueOrErrno<Value: FixedWidthInteger>(
    _ call: @autoclosure () -> String,
    retryOnInterrupt: Bool = true,
    _ body: () -> Value
) throws(SystemCallError) -> Value {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno(rawValue: errno)
        if retryOnInterrupt && error == .interrupted { continue }
        throw SystemCallError(call: call(), errno: error)
    }
}

/// `close(2)`. Never retried on `EINTR`: Linux has released the descriptor by then. `EBADF` means
/// a double close in our own bookkeeping, which is a bug: trap.
@inline(never)
func system_close(_ fd: CInt) {
    if close(fd) == -1 {
        let error = Errno(rawValue: errno)
        precondition(error != .badFileDescriptor, "close(\(fd)): descriptor already closed (double close)")
    }
}

@inline(never)
func system_socketpair() throws(SystemCallError) -> (CInt, CInt) {
    var fds: [CInt] = [-1, -1]
    _ = try valueOrErrno("socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)", retryOnInterrupt: false) {
        socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &fds)
    }
    return (fds[0], fds[1])
}

@inline(never)
func system_pipe() throws(SystemCallError) -> (readEnd: CInt, writeEnd: CInt) {
    var fds: [CInt] = [-1, -1]
    _ = try valueOrErrno("pipe2(O_CLOEXEC)", retryOnInterrupt: false) { mpshim_pipe_cloexec(&fds) }
    return (fds[0], fds[1])
}

/// `fcntl(F_DUPFD_CLOEXEC)`: a close-on-exec duplicate numbered at least `minimum`.
@inline(never)
func system_duplicate(_ fd: CInt, atLeast minimum: CInt) throws(SystemCallError) -> CInt {
    try valueOrErrno("fcntl(\(fd), F_DUPFD_CLOEXEC)") { fcntl(fd, F_DUPFD_CLOEXEC, minimum) }
}

@inline(never)
func system_sendmsg(_ fd: CInt, _ message: UnsafePointer<msghdr>) throws(SystemCallError) -> Int {
    try valueOrErrno("sendmsg(\(fd))") { sendmsg(fd, message, CInt(MSG_NOSIGNAL)) }
}

@inline(never)
func system_send(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Int {
    try valueOrErrno("send(\(fd))") { send(fd, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL)) }
}

@inline(never)
func system_recvmsg(_ fd: CInt, _ message: UnsafeMutablePointer<msghdr>) throws(SystemCallError) -> Int {
    try valueOrErrno("recvmsg(\(fd))") { recvmsg(fd, message, CInt(MSG_CMSG_CLOEXEC)) }
}

@inline(never)
func system_recv(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
    try valueOrErrno("recv(\(fd))") { recv(fd, buffer.baseAddress, buffer.count, 0) }
}

@inline(never)
func system_write(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Int {
    try valueOrErrno("write(\(fd))") { write(fd, buffer.baseAddress, buffer.count) }
}

/// `poll(2)`; `timeoutMilliseconds < 0` waits forever. `EINTR` is not retried here: the caller
/// recomputes the time left against its deadline and polls again.
@inline(never)
func system_poll(
    _ fds: UnsafeMutablePointer<pollfd>,
    _ count: Int,
    _ timeoutMilliseconds: CInt
)
    throws(SystemCallError) -> Int
{
    let result = try valueOrErrno("poll", retryOnInterrupt: false) {
        poll(fds, nfds_t(count), timeoutMilliseconds)
    }
    return Int(result)
}

@inline(never)
func system_pidfd_open(_ pid: pid_t) throws(SystemCallError) -> CInt {
    try valueOrErrno("pidfd_open(\(pid))", retryOnInterrupt: false) { mpshim_pidfd_open(pid) }
}

@inline(never)
func system_pidfd_send_signal(_ pidfd: CInt, _ signal: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("pidfd_send_signal(\(signal))", retryOnInterrupt: false) {
        mpshim_pidfd_send_signal(pidfd, signal)
    }
}

/// The raw result of `waitid(P_PIDFD)`: `nil` when `WNOHANG` found the process still running.
@inline(never)
func system_waitid(pidfd: CInt, noHang: Bool) throws(SystemCallError) -> ExitStatus? {
    var code: CInt = 0
    var status: CInt = 0
    var pid: pid_t = 0
    _ = try valueOrErrno("waitid(P_PIDFD, \(pidfd))") {
        mpshim_waitid_pidfd(pidfd, noHang ? WNOHANG : 0, &code, &status, &pid)
    }
    if pid == 0 { return nil }
    return code == mpshim_CLD_EXITED ? .exited(status) : .signaled(status)
}

@inline(never)
func system_kill(_ pid: pid_t, _ signal: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("kill(\(pid), \(signal))", retryOnInterrupt: false) { kill(pid, signal) }
}

@inline(never)
func system_set_parent_death_signal(_ signal: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("prctl(PR_SET_PDEATHSIG)", retryOnInterrupt: false) {
        mpshim_set_parent_death_signal(signal)
    }
}

@inline(never)
func system_eventfd() throws(SystemCallError) -> CInt {
    try valueOrErrno("eventfd(EFD_CLOEXEC)", retryOnInterrupt: false) { mpshim_eventfd_cloexec() }
}

@inline(never)
func system_fork() throws(SystemCallError) -> pid_t {
    try valueOrErrno("fork", retryOnInterrupt: false) { mpshim_fork() }
}

/// `posix_spawn(2)`, which reports failure as its return value rather than in `errno`.
@inline(never)
func system_posix_spawn(
    _ path: UnsafePointer<CChar>,
    _ actions: UnsafePointer<posix_spawn_file_actions_t>,
    _ attributes: UnsafePointer<posix_spawnattr_t>,
    _ argv: UnsafePointer<UnsafeMutablePointer<CChar>?>,
    _ envp: UnsafePointer<UnsafeMutablePointer<CChar>?>
) throws(SystemCallError) -> pid_t {
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, actions, attributes, argv, envp)
    if result != 0 {
        throw SystemCallError(call: "posix_spawn(\(String(cString: path)))", errno: Errno(rawValue: result))
    }
    return pid
}
