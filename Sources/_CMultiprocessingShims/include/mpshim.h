// C only where Swift cannot reach: variadic calls (syscall, prctl), macros (CMSG_*, W*), the
// program-entry interposition, and the code a forked child runs before it touches Swift.
// Every symbol is prefixed `mpshim_`. Not API: the leading underscore of the module says so.
#ifndef MPSHIM_H
#define MPSHIM_H

#include <stddef.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

/// The environment variable whose presence makes a re-executed binary enter worker mode.
#define MPSHIM_WORKER_TOKEN "SWIFT_MULTIPROCESSING_WORKER"

/// The exit code of a child whose parent vanished before it could run (EX_SOFTWARE). Defined once,
/// here, for the C fork path and Swift's `WorkerExitCode`.
#define MPSHIM_EXIT_PARENT_VANISHED 70

/// Returns the worker token if this process was started as a worker (read from envp in
/// `__libc_start_main`, before `main`), or NULL. Stable for the life of the process.
const char *mpshim_worker_token(void);

// MARK: - Raw syscalls glibc wraps late or not at all (kernel >= 5.3)

/// pidfd_open(2): a descriptor that refers to one process, immune to PID reuse. Returns -1/errno.
int mpshim_pidfd_open(pid_t pid);
/// gettid(2): the calling thread's id, as the kernel and /proc know it.
pid_t mpshim_gettid(void);
/// pidfd_send_signal(2) with no siginfo. Returns -1/errno.
int mpshim_pidfd_send_signal(int pidfd, int signal);
/// waitid(P_PIDFD, pidfd, WEXITED | options). Writes the raw status fields. Returns -1/errno.
/// `code` receives si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and `status` si_status;
/// `pid_out` is 0 when WNOHANG found the process still running.
int mpshim_waitid_pidfd(int pidfd, int options, int *code, int *status, pid_t *pid_out);

/// CLD_EXITED etc. as plain values, because Swift does not import these macros.
extern const int mpshim_CLD_EXITED;
extern const int mpshim_CLD_KILLED;
extern const int mpshim_CLD_DUMPED;

/// pipe2(fds, O_CLOEXEC): Swift's Glibc module is built without _GNU_SOURCE and lacks pipe2.
int mpshim_pipe_cloexec(int fds[2]);
/// eventfd(0, EFD_CLOEXEC): likewise missing from Swift's Glibc module.
int mpshim_eventfd_cloexec(void);
/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE): each read takes one token.
int mpshim_eventfd_semaphore(void);

// MARK: - prctl (variadic in C)

/// prctl(PR_SET_PDEATHSIG, signal). Returns -1/errno.
int mpshim_set_parent_death_signal(int signal);

// MARK: - SCM_RIGHTS (CMSG_* are macros)

/// Bytes of control buffer needed to carry `count` descriptors (CMSG_SPACE).
size_t mpshim_cmsg_space_for_fds(size_t count);
/// Fills `msg`'s control buffer (already pointed to by msg_control, of msg_controllen bytes) with
/// one SCM_RIGHTS message carrying `fds`; sets msg_controllen to the used length.
void mpshim_cmsg_put_fds(struct msghdr *msg, const int *fds, size_t count);
/// Walks the control messages of a received `msg` and copies every SCM_RIGHTS descriptor into
/// `out` (capacity `capacity`); descriptors beyond capacity are closed. Returns how many were stored.
size_t mpshim_cmsg_take_fds(struct msghdr *msg, int *out, size_t capacity);

// MARK: - Child side

/// Runs in a child right after fork (async-signal-safe calls only): sets the parent-death signal to
/// SIGKILL, exits at once if the parent is already gone, closes `close_fds` (the parent-only ends of
/// other children's lifelines), and starts a lifeline watcher on `lifeline_fd`.
void mpshim_prepare_forked_child(pid_t expected_parent, int lifeline_fd, const int *close_fds, size_t count);

/// Runs in a worker the fork server just forked (async-signal-safe calls only): moves `control` to
/// fd 3 and `lifeline` to fd 4, closes every descriptor above 4 (the server's own, its other
/// children's), unblocks signals, sets the parent-death signal to SIGKILL (the parent is the server,
/// which dies with the program), exits at once if the server is already gone, and starts a lifeline
/// watcher on fd 4 (the program's lifeline for this worker).
void mpshim_prepare_forkserver_child(pid_t server, int control, int lifeline);

/// Starts a detached thread that blocks reading `lifeline_fd` and SIGKILLs this process when the read
/// returns (EOF: every holder of the write end, i.e. the parent, is gone). Returns 0 or an errno.
int mpshim_start_lifeline_watcher(int lifeline_fd);

/// prctl(PR_SET_NAME): names the calling thread (the kernel keeps 15 bytes). Variadic in C.
void mpshim_set_thread_name(const char *name);

// MARK: - epoll (struct epoll_event is packed on x86_64; a plain struct crosses the boundary instead)

/// One readiness event: the epoll_event fields, unpacked.
typedef struct {
    uint32_t events;
    uint64_t data;
} mpshim_epoll_event;

extern const uint32_t mpshim_EPOLLIN;
extern const uint32_t mpshim_EPOLLOUT;
extern const uint32_t mpshim_EPOLLERR;
extern const uint32_t mpshim_EPOLLHUP;
extern const uint32_t mpshim_EPOLLRDHUP;
extern const uint32_t mpshim_EPOLLONESHOT;
extern const int mpshim_EPOLL_CTL_ADD;
extern const int mpshim_EPOLL_CTL_MOD;
extern const int mpshim_EPOLL_CTL_DEL;

/// epoll_create1(EPOLL_CLOEXEC). Returns -1/errno.
int mpshim_epoll_create(void);
/// epoll_ctl with the event built from `events` and `data`. Returns -1/errno.
int mpshim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// epoll_wait into unpacked events. Returns the count or -1/errno (EINTR included: the caller loops).
int mpshim_epoll_wait(int epfd, mpshim_epoll_event *events, int capacity, int timeout_ms);

// MARK: - Descriptors a spawned child must not inherit

/// posix_spawn_file_actions_addclosefrom_np(actions, lowest) (glibc >= 2.34), looked up weakly so
/// the library still loads on an older glibc. Returns 0, or ENOSYS when glibc lacks it (the worker
/// then closes them itself with close_range), or the function's error.
int mpshim_spawn_file_actions_addclosefrom(void *actions, int lowest);
/// close_range(lowest, ~0U, 0) (Linux >= 5.9), with a loop over /proc/self/fd as the fallback.
/// Returns 0 or -1/errno.
int mpshim_close_descriptors_from(int lowest);

// MARK: - Shared memory

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING) (Linux >= 3.17, glibc >= 2.27; Swift's Glibc module lacks it
/// without _GNU_SOURCE). Returns -1/errno.
int mpshim_memfd_create(const char *name);
/// fcntl(F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) on a memfd (Linux >= 3.17): its size
/// can never change again, so a process it is handed to cannot be made to fault (SIGBUS) by a
/// sender that shrinks it after the receiver checked it. Returns 0 or -1/errno.
int mpshim_seal_size(int fd);
/// Whether the file behind `fd` is a memfd sealed against shrinking (1) or not (0).
int mpshim_is_size_sealed(int fd);
/// shm_open(name, flags | O_CLOEXEC, mode): variadic-free wrapper. Returns -1/errno.
int mpshim_shm_open(const char *name, int flags, unsigned int mode);
/// mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), with NULL instead of MAP_FAILED
/// (a macro) on failure; errno is set.
void *mpshim_map_shared(int fd, size_t length);
/// The size of the file behind `fd` (fstat's st_size), or -1/errno.
long long mpshim_file_size(int fd);

// MARK: - Futex (syscall is variadic)

/// FUTEX_WAIT (shared, not _PRIVATE: the word may be mapped by several processes) on `word` while it
/// holds `expected`, for at most `timeout_ns` (-1: no limit; relative, CLOCK_MONOTONIC). Returns 0
/// when woken (or spuriously), -1/errno: EAGAIN (the word changed first), ETIMEDOUT, EINTR.
int mpshim_futex_wait(uint32_t *word, uint32_t expected, long long timeout_ns);
/// FUTEX_WAKE (shared): wakes up to `count` waiters on `word`. Returns how many, or -1/errno.
int mpshim_futex_wake(uint32_t *word, int count);

// MARK: - Robust process-shared mutexes (the attribute macros and EOWNERDEAD)

extern const int mpshim_EOWNERDEAD;
extern const int mpshim_ENOTRECOVERABLE;
/// pthread_mutex_init with PTHREAD_PROCESS_SHARED and PTHREAD_MUTEX_ROBUST (and, when `recursive`,
/// PTHREAD_MUTEX_RECURSIVE; when `fair`, PTHREAD_PRIO_INHERIT, whose kernel-kept waiter queue hands
/// the lock over first come, first served) on memory shared between processes. Returns 0 or an errno.
int mpshim_robust_mutex_init(void *mutex, int recursive, int fair);
/// One spin-wait hint to the CPU (`pause` on x86, `yield` on arm64).
void mpshim_spin_pause(void);
/// pthread_mutex_lock after up to `rounds` spins watching the word (trylock when it looks free).
/// Returns 0, EOWNERDEAD, ENOTRECOVERABLE or another errno.
int mpshim_mutex_lock_spinning(void *mutex, int rounds);
/// sizeof(pthread_mutex_t), so Swift can lay out shared segments.
size_t mpshim_mutex_size(void);
/// pthread_mutex_clocklock on CLOCK_MONOTONIC with a deadline `nanoseconds` from now (glibc >= 2.30).
/// Returns 0, ETIMEDOUT, EOWNERDEAD, ENOTRECOVERABLE or another errno.
int mpshim_mutex_timedlock_after(void *mutex, long long nanoseconds);

/// The number of CPUs in this process's affinity mask (sched_getaffinity + CPU_COUNT, a macro), or -1.
int mpshim_affinity_cpu_count(void);

/// Blocks every signal in the calling thread (pthread_sigmask is fine from Swift, but sigset_t
/// manipulation macros are not all importable).
void mpshim_block_all_signals(void);

/// fork(2): Swift's Glibc overlay marks fork unavailable on some platforms; one place calls it.
pid_t mpshim_fork(void);

/// _exit(2) after flushing C stdio (what a forked child must do instead of exit(3)).
void mpshim_flush_and_exit(int code) __attribute__((noreturn));


// MARK: - Listening and connecting sockets (socket.c)

#define MPSHIM_ADDRESS_UNIX_PATH 0
#define MPSHIM_ADDRESS_ABSTRACT 1
#define MPSHIM_ADDRESS_TCP 2

/// A listening stream socket (close-on-exec, non-blocking) bound to a Unix path, an abstract Unix
/// name, or a TCP host and port (`port` 0 picks one: `*bound_port` receives it). Returns the fd or
/// -1/errno (`EADDRINUSE`, `ENAMETOOLONG`, `EADDRNOTAVAIL` for a host that does not resolve).
int mpshim_listen(int kind, const char *name, uint16_t port, int backlog, uint16_t *bound_port);
/// A connected stream socket (close-on-exec; TCP_NODELAY on TCP). With `nonblocking`, a connection
/// still in progress returns the fd with `*in_progress` set: wait until writable, then
/// `mpshim_finish_connect`. Returns the fd or -1/errno (`EAGAIN`: a Unix listener's backlog is full).
int mpshim_connect(int kind, const char *name, uint16_t port, int nonblocking, int *in_progress);
/// accept4(SOCK_CLOEXEC): a blocking connected socket (TCP_NODELAY on TCP), or -1/errno.
int mpshim_accept(int listen_fd);
/// After a non-blocking connect became writable: its result (SO_ERROR), and the socket back to blocking.
int mpshim_finish_connect(int fd);

#endif
