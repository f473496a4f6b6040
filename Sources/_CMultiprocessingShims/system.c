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
