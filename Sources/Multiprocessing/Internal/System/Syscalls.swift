// The one place that makes system calls. Each `system_<name>` reads `errno` at once, retries `EINTR`
// where the call may be retried, and throws a `SystemCallError` naming the call. Kept `@inline(never)`
// (as swift-nio does) so no ARC traffic between the call and the read of `errno` can change it.
// With `ENABLE_MOCKING` (debug builds) each call first asks the thread's `MockingDriver`.

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
        #if ENABLE_MOCKING
        if let driver = MockingDriver.current, let forced = driver.record(call()) {
            if retryOnInterrupt && forced == .interrupted { continue }
            throw SystemCallError(call: call(), errno: forced)
        }
        #endif
        let result = body()
        if result != -1 { return result }
        let error = Errno(rawValue: errno)
        if retryOnInterrupt && error == .interrupted { continue }
        throw SystemCallError(call: call(), errno: error)
    }
}

/// The length a call may transfer: all of it, or less when a test's mocking driver says so.
@inline(__always)
private func mockedLength(_ call: String, _ count: Int) -> Int {
    #if ENABLE_MOCKING
    return MockingDriver.current?.limit(call, count) ?? count
    #else
    return count
    #endif
}

// MARK: - Descriptors

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

/// `fcntl(F_SETFD, FD_CLOEXEC)`.
@inline(never)
func system_set_close_on_exec(_ fd: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("fcntl(\(fd), F_SETFD)") { fcntl(fd, F_SETFD, FD_CLOEXEC) }
}

/// `shutdown(2)`: `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
@inline(never)
func system_shutdown(_ fd: CInt, _ how: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("shutdown(\(fd), \(how))", retryOnInterrupt: false) { shutdown(fd, how) }
}

@inline(never)
func system_eventfd() throws(SystemCallError) -> CInt {
    try valueOrErrno("eventfd(EFD_CLOEXEC)", retryOnInterrupt: false) { mpshim_eventfd_cloexec() }
}

/// A non-blocking semaphore eventfd: writes add tokens, each read takes one (`EAGAIN` when none).
@inline(never)
func system_eventfd_semaphore() throws(SystemCallError) -> CInt {
    try valueOrErrno("eventfd(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)", retryOnInterrupt: false) {
        mpshim_eventfd_semaphore()
    }
}

// MARK: - Reading and writing

/// `send(2)` with `MSG_NOSIGNAL` (and `MSG_DONTWAIT` when `nonBlocking`).
@inline(never)
func system_send(
    _ fd: CInt,
    _ buffer: UnsafeRawBufferPointer,
    nonBlocking: Bool = false
) throws(SystemCallError)
    -> Int
{
    let flags = CInt(MSG_NOSIGNAL) | (nonBlocking ? CInt(MSG_DONTWAIT) : 0)
    let count = mockedLength("send", buffer.count)
    return try valueOrErrno("send(\(fd))") { send(fd, buffer.baseAddress, count, flags) }
}

/// `sendmsg(2)` of `bytes` with `descriptors` attached as `SCM_RIGHTS`; the only place a `msghdr`
/// for sending is built. Returns the bytes sent (the descriptors travel with the first of them).
@inline(never)
func system_sendmsg(
    _ fd: CInt,
    _ bytes: UnsafeRawBufferPointer,
    descriptors: [CInt],
    nonBlocking: Bool = false
) throws(SystemCallError) -> Int {
    let controlCount = mpshim_cmsg_space_for_fds(descriptors.count)
    let control = UnsafeMutableRawPointer.allocate(byteCount: controlCount, alignment: 16)
    defer { control.deallocate() }
    control.initializeMemory(as: UInt8.self, repeating: 0, count: controlCount)
    let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
    defer { vector.deallocate() }
    vector.initialize(
        to: iovec(
            iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress),
            iov_len: mockedLength("sendmsg", bytes.count)
        )
    )
    var message = msghdr()
    message.msg_iov = vector
    message.msg_iovlen = 1
    message.msg_control = control
    message.msg_controllen = controlCount
    descriptors.withUnsafeBufferPointer { mpshim_cmsg_put_fds(&message, $0.baseAddress!, descriptors.count) }
    let flags = CInt(MSG_NOSIGNAL) | (nonBlocking ? CInt(MSG_DONTWAIT) : 0)
    return try valueOrErrno("sendmsg(\(fd))") { sendmsg(fd, &message, flags) }
}

/// What one `recvmsg` delivered.
struct ReceivedMessage {
    /// Bytes read; 0 at end of stream.
    var byteCount: Int
    /// Descriptors that arrived (`SCM_RIGHTS`), already close-on-exec.
    var descriptors: [CInt]
    /// Whether the kernel dropped descriptors for lack of control-buffer room (`MSG_CTRUNC`).
    var descriptorsTruncated: Bool
}

/// `recvmsg(2)` into `buffer` with room for `maximumDescriptors`; the only place a `msghdr` for
/// receiving is built. With `nonBlocking`, `nil` means nothing was there (`EAGAIN`, a value).
@inline(never)
func system_recvmsg(
    _ fd: CInt,
    into buffer: UnsafeMutableRawBufferPointer,
    control: UnsafeMutableRawBufferPointer,
    maximumDescriptors: Int,
    nonBlocking: Bool = false
) throws(SystemCallError) -> ReceivedMessage? {
    let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
    defer { vector.deallocate() }
    vector.initialize(to: iovec(iov_base: buffer.baseAddress, iov_len: mockedLength("recvmsg", buffer.count)))
    let flags = CInt(MSG_CMSG_CLOEXEC) | (nonBlocking ? CInt(MSG_DONTWAIT) : 0)
    var message = msghdr()
    message.msg_iov = vector
    message.msg_iovlen = 1
    message.msg_control = control.baseAddress
    message.msg_controllen = control.count
    let received: Int
    do {
        received = try valueOrErrno("recvmsg(\(fd))") { recvmsg(fd, &message, flags) }
    } catch  where nonBlocking && error.wouldBlock {
        return nil
    }
    var descriptors: [CInt] = []
    if message.msg_controllen > 0 {
        var fds = [CInt](repeating: -1, count: maximumDescriptors)
        let count = mpshim_cmsg_take_fds(&message, &fds, fds.count)
        descriptors = Array(fds.prefix(count))
    }
    return ReceivedMessage(
        byteCount: received,
        descriptors: descriptors,
        descriptorsTruncated: message.msg_flags & CInt(MSG_CTRUNC) != 0
    )
}

@inline(never)
func system_write(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Int {
    try valueOrErrno("write(\(fd))") { write(fd, buffer.baseAddress, buffer.count) }
}

@inline(never)
func system_read(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
    try valueOrErrno("read(\(fd))") { read(fd, buffer.baseAddress, buffer.count) }
}

// MARK: - Waiting

/// `poll(2)` until `deadline`: `EINTR` polls again with the time that is left, so a signal never
/// shortens or lengthens the wait. Returns the number of ready entries (0 when the deadline passed).
@inline(never)
func system_poll(
    _ entries: UnsafeMutableBufferPointer<pollfd>,
    until deadline: Deadline
) throws(SystemCallError)
    -> Int
{
    while true {
        do {
            return Int(
                try valueOrErrno("poll", retryOnInterrupt: false) {
                    poll(entries.baseAddress, nfds_t(entries.count), deadline.pollTimeout)
                }
            )
        } catch  where error.errno == .interrupted {
            continue
        }
    }
}

/// Polls one descriptor for `events` until `deadline`; returns its `revents` (0 on timeout).
func system_poll(_ fd: CInt, events: CInt = CInt(POLLIN), until deadline: Deadline) throws(SystemCallError) -> Int16 {
    var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
    _ = try withUnsafeMutablePointer(to: &entry) { (pointer) throws(SystemCallError) -> Int in
        try system_poll(UnsafeMutableBufferPointer(start: pointer, count: 1), until: deadline)
    }
    return entry.revents
}

// MARK: - Processes

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

/// `waitpid(pid, 0)`: reaps a child that has no pidfd (one whose `pidfd_open` failed).
@inline(never)
func system_waitpid(_ pid: pid_t) throws(SystemCallError) {
    var status: CInt = 0
    _ = try valueOrErrno("waitpid(\(pid))") { waitpid(pid, &status, 0) }
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

/// `getppid(2)`, which cannot fail.
@inline(never)
func system_getppid() -> pid_t { getppid() }

/// `getpid(2)`, which cannot fail.
@inline(never)
func system_getpid() -> pid_t { getpid() }

/// `gettid(2)`, which cannot fail.
@inline(never)
func system_gettid() -> pid_t { mpshim_gettid() }

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
    #if ENABLE_MOCKING
    if let forced = MockingDriver.current?.record("posix_spawn") {
        throw SystemCallError(call: "posix_spawn(\(String(cString: path)))", errno: forced)
    }
    #endif
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, actions, attributes, argv, envp)
    if result != 0 {
        throw SystemCallError(call: "posix_spawn(\(String(cString: path)))", errno: Errno(rawValue: result))
    }
    return pid
}

/// `unsetenv(3)`: not a system call, but it edits process state, so it is made here too.
@inline(never)
func system_unsetenv(_ name: String) throws(SystemCallError) {
    _ = try valueOrErrno("unsetenv(\(name))", retryOnInterrupt: false) { unsetenv(name) }
}

/// Reads a small file whole (a `/proc` or `/sys` entry): `open`, `read` until EOF, `close`.
@inline(never)
func system_read_small_file(_ path: String, limit: Int = 4096) throws(SystemCallError) -> [UInt8] {
    let fd = try valueOrErrno("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { system_close(fd) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: limit, alignment: 1)
    defer { buffer.deallocate() }
    var count = 0
    while count < limit {
        let read = try system_read(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[count...]))
        if read == 0 { break }
        count += read
    }
    return [UInt8](copying: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
}
