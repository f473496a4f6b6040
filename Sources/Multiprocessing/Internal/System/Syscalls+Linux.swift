// Linux-only calls: epoll, pidfds, eventfd, prctl, close_range. A macOS port replaces this file
// (kqueue for epoll and pidfds).

import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

@inline(never)
func system_epoll_create() throws(SystemCallError) -> CInt {
    try valueOrErrno("epoll_create1(EPOLL_CLOEXEC)", retryOnInterrupt: false) { mpshim_epoll_create() }
}

@inline(never)
func system_epoll_ctl(
    _ epfd: CInt,
    _ operation: CInt,
    _ fd: CInt,
    events: UInt32,
    data: UInt64
)
    throws(SystemCallError)
{
    _ = try valueOrErrno("epoll_ctl(\(operation), \(fd))", retryOnInterrupt: false) {
        mpshim_epoll_ctl(epfd, operation, fd, events, data)
    }
}

/// `epoll_wait(2)`. `EINTR` returns 0 events rather than throwing: the loop recomputes its timeout.
@inline(never)
func system_epoll_wait(
    _ epfd: CInt,
    _ events: UnsafeMutablePointer<mpshim_epoll_event>,
    _ capacity: CInt,
    _ timeoutMilliseconds: CInt
) throws(SystemCallError) -> Int {
    let result = mpshim_epoll_wait(epfd, events, capacity, timeoutMilliseconds)
    if result >= 0 { return Int(result) }
    let error = Errno(rawValue: errno)
    if error == .interrupted { return 0 }
    throw SystemCallError(call: "epoll_wait", errno: error)
}

/// Closes every descriptor numbered `lowest` or above (`close_range`, or a `/proc/self/fd` walk).
@inline(never)
func system_close_descriptors(from lowest: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("close_range(\(lowest))", retryOnInterrupt: false) { mpshim_close_descriptors_from(lowest) }
}

/// The number of CPUs this process may run on (`sched_getaffinity`), or `nil` if it cannot be read.
@inline(never)
func system_affinity_cpu_count() -> Int? {
    let count = mpshim_affinity_cpu_count()
    return count > 0 ? Int(count) : nil
}

// MARK: - Shared memory

/// `memfd_create(name, MFD_CLOEXEC)`: an anonymous file that lives while a descriptor or mapping does.
@inline(never)
func system_memfd_create(_ name: String) throws(SystemCallError) -> CInt {
    try valueOrErrno("memfd_create(\(name))", retryOnInterrupt: false) { mpshim_memfd_create(name) }
}

/// Seals a memfd's size (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`).
@inline(never)
func system_seal_size(_ fd: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("fcntl(\(fd), F_ADD_SEALS)", retryOnInterrupt: false) { mpshim_seal_size(fd) }
}

/// Whether `fd` is a memfd whose size is sealed.
@inline(never)
func system_is_size_sealed(_ fd: CInt) -> Bool { mpshim_is_size_sealed(fd) != 0 }

/// `shm_open(name, flags | O_CLOEXEC, mode)`.
@inline(never)
func system_shm_open(_ name: String, flags: CInt, mode: UInt32) throws(SystemCallError) -> CInt {
    try valueOrErrno("shm_open(\(name))", retryOnInterrupt: false) { mpshim_shm_open(name, flags, mode) }
}

@inline(never)
func system_shm_unlink(_ name: String) throws(SystemCallError) {
    _ = try valueOrErrno("shm_unlink(\(name))", retryOnInterrupt: false) { shm_unlink(name) }
}

@inline(never)
func system_ftruncate(_ fd: CInt, _ length: Int) throws(SystemCallError) {
    _ = try valueOrErrno("ftruncate(\(fd), \(length))") { ftruncate(fd, off_t(length)) }
}

/// The size of the file behind `fd` (`fstat`).
@inline(never)
func system_file_size(_ fd: CInt) throws(SystemCallError) -> Int {
    Int(try valueOrErrno("fstat(\(fd))", retryOnInterrupt: false) { mpshim_file_size(fd) })
}

/// `mmap(MAP_SHARED, PROT_READ | PROT_WRITE)` of the whole of `length` bytes of `fd`.
@inline(never)
func system_map_shared(_ fd: CInt, _ length: Int) throws(SystemCallError) -> UnsafeMutableRawPointer {
    if let address = mpshim_map_shared(fd, length) { return address }
    throw SystemCallError(call: "mmap(\(fd), \(length))", errno: Errno(rawValue: errno))
}

@inline(never)
func system_munmap(_ address: UnsafeMutableRawPointer, _ length: Int) {
    // EINVAL only for a bad range, which would be our own bookkeeping error.
    let result = munmap(address, length)
    precondition(result == 0, "munmap(\(address), \(length)) failed: \(Errno(rawValue: errno))")
}

// MARK: - Futex

/// Waits while `word` holds `expected`, at most until `deadline`. Returns false when the deadline
/// passed; true when woken, when the word had already changed (`EAGAIN`), or on a signal (`EINTR`):
/// callers re-check the word in a loop either way.
@inline(never)
func system_futex_wait(_ word: UnsafeMutablePointer<UInt32>, expected: UInt32, until deadline: Deadline) -> Bool {
    var timeout: Int64 = -1
    if let instant = deadline.instant {
        let left = ContinuousClock.now.duration(to: instant)
        if left <= .zero { return false }
        timeout = left.saturatingNanoseconds
    }
    if mpshim_futex_wait(word, expected, timeout) == 0 { return true }
    let error = errno
    if error == ETIMEDOUT { return false }
    // EAGAIN: the word changed first; EINTR: a signal. Anything else (EFAULT, EINVAL) is our bug,
    // and retrying it would spin.
    precondition(error == EAGAIN || error == EINTR, "futex wait failed: \(Errno(rawValue: error))")
    return true
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...Int64.max` (a "forever" timeout must not overflow).
    var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowAgain ? .max : total
    }
}

/// Wakes up to `count` waiters on `word` (`Int32.max`: all).
@inline(never)
func system_futex_wake(_ word: UnsafeMutablePointer<UInt32>, count: Int32) {
    _ = mpshim_futex_wake(word, count)
}

// MARK: - Listening and connecting sockets

/// A listening socket bound to `name` (a path, an abstract name or a host) and `port`.
@inline(never)
func system_listen(
    kind: CInt,
    _ name: String,
    port: UInt16,
    backlog: CInt
) throws(SystemCallError) -> (fd: CInt, port: UInt16) {
    var bound: UInt16 = port
    let fd = try valueOrErrno("bind(\(name)\(kind == MPSHIM_ADDRESS_TCP ? ":\(port)" : ""))", retryOnInterrupt: false) {
        mpshim_listen(kind, name, port, backlog, &bound)
    }
    return (fd, bound)
}

/// A socket connected (or, when `nonBlocking`, connecting) to `name` and `port`.
@inline(never)
func system_connect(
    kind: CInt,
    _ name: String,
    port: UInt16,
    nonBlocking: Bool
) throws(SystemCallError) -> (fd: CInt, inProgress: Bool) {
    var inProgress: CInt = 0
    let fd = try valueOrErrno(
        "connect(\(name)\(kind == MPSHIM_ADDRESS_TCP ? ":\(port)" : ""))",
        retryOnInterrupt: false
    ) {
        mpshim_connect(kind, name, port, nonBlocking ? 1 : 0, &inProgress)
    }
    return (fd, inProgress != 0)
}

/// The result of a non-blocking connect once its socket is writable; the socket is blocking again.
@inline(never)
func system_finish_connect(_ fd: CInt) throws(SystemCallError) {
    _ = try valueOrErrno("connect (completion)", retryOnInterrupt: false) { mpshim_finish_connect(fd) }
}

/// `accept4(SOCK_CLOEXEC)` on a non-blocking listening socket: `EAGAIN` when nobody waits.
@inline(never)
func system_accept(_ fd: CInt) throws(SystemCallError) -> CInt {
    try valueOrErrno("accept4(\(fd))") { mpshim_accept(fd) }
}

/// `unlink(2)`.
@inline(never)
func system_unlink(_ path: String) throws(SystemCallError) {
    _ = try valueOrErrno("unlink(\(path))", retryOnInterrupt: false) { unlink(path) }
}
