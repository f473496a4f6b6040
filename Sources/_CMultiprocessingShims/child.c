// What a child runs before (or instead of) Swift code that could take a lock: the parent-death
// signal, the lifeline watcher, and the forked child's exit.
#include "mpshim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *lifeline_watcher(void *argument) {
    int fd = (int)(intptr_t)argument;
    char byte;
    for (;;) {
        ssize_t result = read(fd, &byte, 1);
        if (result < 0 && errno == EINTR) continue;
        if (result > 0) continue;  // the parent never writes; ignore stray bytes
        break;
    }
    // EOF or error: the parent, the only holder of the write end, is gone. Die as PDEATHSIG would.
    kill(getpid(), SIGKILL);
    return NULL;
}

int mpshim_start_lifeline_watcher(int lifeline_fd) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    pthread_t thread;
    int result = pthread_create(&thread, &attributes, lifeline_watcher, (void *)(intptr_t)lifeline_fd);
    pthread_attr_destroy(&attributes);
    return result;
}

void mpshim_prepare_forked_child(pid_t expected_parent, int lifeline_fd, const int *close_fds, size_t count) {
    // The launcher thread blocks every signal; the child starts with none blocked, as a new process would.
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0);
    // The parent may have died between fork and prctl; then the signal was never armed.
    if (getppid() != expected_parent) _exit(MPSHIM_EXIT_PARENT_VANISHED);
    for (size_t index = 0; index < count; index++) close(close_fds[index]);
    if (lifeline_fd >= 0) mpshim_start_lifeline_watcher(lifeline_fd);
}

void mpshim_prepare_forkserver_child(pid_t server, int control, int lifeline) {
    // Move both above 4 first, so that neither dup2 below overwrites the other's source.
    int high_control = fcntl(control, F_DUPFD, 10);
    int high_lifeline = fcntl(lifeline, F_DUPFD, 10);
    if (high_control < 0 || high_lifeline < 0) _exit(MPSHIM_EXIT_PARENT_VANISHED);
    if (dup2(high_control, 3) < 0 || dup2(high_lifeline, 4) < 0) _exit(MPSHIM_EXIT_PARENT_VANISHED);
    mpshim_close_descriptors_from(5);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0);
    if (getppid() != server) _exit(MPSHIM_EXIT_PARENT_VANISHED);
    mpshim_start_lifeline_watcher(4);
}

void mpshim_block_all_signals(void) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
}

void mpshim_set_thread_name(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

pid_t mpshim_fork(void) { return fork(); }

void mpshim_flush_and_exit(int code) {
    fflush(NULL);
    _exit(code);
}
