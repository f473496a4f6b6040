// Raw syscalls and macros Swift cannot call or import. Each needs Linux >= 5.3 (pidfd) and glibc >= 2.28.
#include "mpshim.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const int mpshim_CLD_EXITED = CLD_EXITED;
const int mpshim_CLD_KILLED = CLD_KILLED;
const int mpshim_CLD_DUMPED = CLD_DUMPED;

// `syscall` is variadic, which Swift does not import.
int mpshim_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
pid_t mpshim_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int mpshim_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

// glibc's waitid takes an idtype_t whose P_PIDFD member older headers lack.
int mpshim_waitid_pidfd(int pidfd, int options, int *code, int *status, pid_t *pid_out) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int result = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | options);
    if (result == 0) {
        *code = info.si_code;
        *status = info.si_status;
        *pid_out = info.si_pid;
    }
    return result;
}

int mpshim_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int mpshim_eventfd_cloexec(void) { return eventfd(0, EFD_CLOEXEC); }
int mpshim_eventfd_semaphore(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE); }

// `prctl` is variadic.
int mpshim_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

size_t mpshim_cmsg_space_for_fds(size_t count) { return CMSG_SPACE(sizeof(int) * count); }

void mpshim_cmsg_put_fds(struct msghdr *msg, const int *fds, size_t count) {
    struct cmsghdr *header = CMSG_FIRSTHDR(msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    msg->msg_controllen = CMSG_SPACE(sizeof(int) * count);
}

size_t mpshim_cmsg_take_fds(struct msghdr *msg, int *out, size_t capacity) {
    size_t stored = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(msg); header != NULL; header = CMSG_NXTHDR(msg, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        unsigned char *data = CMSG_DATA(header);
        for (size_t index = 0; index < count; index++) {
            int fd;
            memcpy(&fd, data + index * sizeof(int), sizeof(int));
            if (stored < capacity) {
                out[stored++] = fd;
            } else {
                close(fd);
            }
        }
    }
    return stored;
}

// MARK: - epoll

#include <sys/epoll.h>

const uint32_t mpshim_EPOLLIN = EPOLLIN;
const uint32_t mpshim_EPOLLOUT = EPOLLOUT;
const uint32_t mpshim_EPOLLERR = EPOLLERR;
const uint32_t mpshim_EPOLLHUP = EPOLLHUP;
const uint32_t mpshim_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t mpshim_EPOLLONESHOT = EPOLLONESHOT;
const int mpshim_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
const int mpshim_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
const int mpshim_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

int mpshim_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int mpshim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event);
}

int mpshim_epoll_wait(int epfd, mpshim_epoll_event *events, int capacity, int timeout_ms) {
    struct epoll_event raw[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, raw, capacity, timeout_ms);
    for (int index = 0; index < count; index++) {
        events[index].events = raw[index].events;
        events[index].data = raw[index].data.u64;
    }
    return count;
}

// MARK: - Closing inherited descriptors

#include <dirent.h>
#include <spawn.h>
#include <stdlib.h>

extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *, int) __attribute__((weak));

int mpshim_spawn_file_actions_addclosefrom(void *actions, int lowest) {
    if (posix_spawn_file_actions_addclosefrom_np == NULL) return ENOSYS;
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, lowest);
}

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

int mpshim_close_descriptors_from(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return 0;
    // Kernels before 5.9: walk /proc/self/fd (opendir's own descriptor is skipped).
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) return -1;
    int own = dirfd(directory);
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        int fd = atoi(entry->d_name);
        if (fd >= lowest && fd != own) close(fd);
    }
    closedir(directory);
    return 0;
}

// MARK: - CPU affinity (CPU_COUNT is a macro)

#include <sched.h>

int mpshim_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}

// MARK: - Shared memory

#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

int mpshim_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); }

int mpshim_seal_size(int fd) { return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL); }

int mpshim_is_size_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & F_SEAL_SHRINK) != 0;
}

int mpshim_shm_open(const char *name, int flags, unsigned int mode) {
    return shm_open(name, flags | O_CLOEXEC, (mode_t)mode);
}

void *mpshim_map_shared(int fd, size_t length) {
    void *address = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return address == MAP_FAILED ? NULL : address;
}

long long mpshim_file_size(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0) return -1;
    return (long long)info.st_size;
}

// MARK: - Robust mutexes

const int mpshim_EOWNERDEAD = EOWNERDEAD;
const int mpshim_ENOTRECOVERABLE = ENOTRECOVERABLE;

int mpshim_robust_mutex_init(void *mutex, int recursive, int fair) {
    pthread_mutexattr_t attributes;
    int result = pthread_mutexattr_init(&attributes);
    if (result != 0) return result;
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    if (recursive) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    // Priority inheritance makes the kernel keep the waiters (a PI futex's rt_mutex): in arrival
    // order among non-real-time threads (Linux >= 5.15 treats them all alike), and an unlock hands
    // the lock to the first of them directly, so no later arrival can barge in.
    if (fair) {
        result = pthread_mutexattr_setprotocol(&attributes, PTHREAD_PRIO_INHERIT);
        if (result != 0) {
            pthread_mutexattr_destroy(&attributes);
            return result;
        }
    }
    result = pthread_mutex_init((pthread_mutex_t *)mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return result;
}

size_t mpshim_mutex_size(void) { return sizeof(pthread_mutex_t); }

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void mpshim_spin_pause(void) { spin_pause(); }

int mpshim_mutex_lock_spinning(void *mutex, int rounds) {
    // glibc's robust mutexes never spin: a contended lock sleeps in the kernel at once, and a holder
    // that keeps it for a few dozen nanoseconds (a queue's put) then costs a sleep and a wake-up per
    // operation. Watch the word for a while first, trying only when it looks free.
    pthread_mutex_t *m = (pthread_mutex_t *)mutex;
    for (int round = 0; round < rounds; round++) {
        if (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0) {
            int result = pthread_mutex_trylock(m);
            if (result != EBUSY) return result;
        }
        spin_pause();
    }
    return pthread_mutex_lock(m);
}

int mpshim_mutex_timedlock_after(void *mutex, long long nanoseconds) {
    // On the monotonic clock (pthread_mutex_clocklock, glibc >= 2.30): a wall-clock change must not
    // stretch or cut a timeout.
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (nanoseconds < 0) nanoseconds = 0;
    // Seconds and the rest separately: tv_nsec + nanoseconds could overflow for a "forever" timeout.
    long long seconds = nanoseconds / 1000000000LL;
    long long rest = nanoseconds % 1000000000LL + deadline.tv_nsec;
    if (rest >= 1000000000LL) {
        rest -= 1000000000LL;
        seconds += 1;
    }
    const long long latest = (long long)1 << 62;  // far beyond any uptime; keeps tv_sec in range
    deadline.tv_sec = (time_t)(seconds > latest - deadline.tv_sec ? latest : deadline.tv_sec + seconds);
    deadline.tv_nsec = (long)rest;
    return pthread_mutex_clocklock((pthread_mutex_t *)mutex, CLOCK_MONOTONIC, &deadline);
}

// MARK: - Futex

#include <linux/futex.h>
#include <limits.h>

int mpshim_futex_wait(uint32_t *word, uint32_t expected, long long timeout_ns) {
    struct timespec timeout;
    struct timespec *limit = NULL;
    if (timeout_ns >= 0) {
        timeout.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        timeout.tv_nsec = (long)(timeout_ns % 1000000000LL);
        limit = &timeout;
    }
    return (int)syscall(SYS_futex, word, FUTEX_WAIT, expected, limit, NULL, 0);
}

int mpshim_futex_wake(uint32_t *word, int count) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}
