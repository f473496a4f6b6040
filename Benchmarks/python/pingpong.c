/*
 * pingpong.c -- plain C floor for the Pipe slide's round-trip measurement
 * ("Pipe: pair of connection objects that facilitate communication between
 * two processes", "Parallel Computing in Python", Gill & Fantell).
 *
 * What it measures: the raw kernel cost of one request/response over an
 * AF_UNIX SOCK_STREAM socketpair (what multiprocessing.Pipe() uses on
 * POSIX), without any Python or Swift object serialisation.  The parent
 * forks a child that echoes 8-byte messages; the parent writes an 8-byte
 * value and reads it back N times and reports microseconds per round trip.
 *
 * Swift side: `swift run -c release mpdemo pipe --vs-python` compiles this
 * file at run time with `cc -O2 pingpong.c -o ...`, runs it, and shows its
 * round_trip_us next to the Swift and Python (pipe.py) round trips.
 *
 * Usage:  pingpong [N]        (N = round trips, default 100000)
 * Output: one JSON line
 *   {"demo":"pingpong-c","round_trips":N,"round_trip_us":...}
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_ROUND_TRIPS 1000

/* Write exactly len bytes; returns 0 on success, -1 on error. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes; returns 1 on success, 0 on EOF before any byte,
 * -1 on error or EOF in the middle of a message. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return got == 0 ? 0 : -1;
        got += (size_t)n;
    }
    return 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void child_echo(int fd)
{
    uint64_t value;
    for (;;) {
        int r = read_all(fd, &value, sizeof value);
        if (r == 0)
            _exit(0); /* parent closed its end: done */
        if (r < 0 || write_all(fd, &value, sizeof value) != 0)
            _exit(1);
    }
}

static int bounce(int fd, uint64_t value)
{
    uint64_t back;
    errno = 0;
    if (write_all(fd, &value, sizeof value) != 0)
        return -1;
    if (read_all(fd, &back, sizeof back) != 1)
        return -1;
    return back == value ? 0 : -1;
}

int main(int argc, char **argv)
{
    long n = 100000;
    if (argc > 1) {
        char *end = NULL;
        errno = 0;
        n = strtol(argv[1], &end, 10);
        if (errno != 0 || end == argv[1] || *end != '\0' || n < 1) {
            fprintf(stderr, "usage: %s [round_trips >= 1]\n", argv[0]);
            return 2;
        }
    }

    /* A dead child must show up as an error from write(), not kill us. */
    signal(SIGPIPE, SIG_IGN);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(sv[0]);
        child_echo(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    int fd = sv[0];

    int failed = 0, saved_errno = 0;
    for (long i = 0; i < WARMUP_ROUND_TRIPS && !failed; i++)
        if (bounce(fd, (uint64_t)i) != 0)
            failed = 1;

    double start = now_seconds();
    for (long i = 0; i < n && !failed; i++)
        if (bounce(fd, (uint64_t)i) != 0)
            failed = 1;
    double elapsed = now_seconds() - start;
    if (failed)
        saved_errno = errno;

    close(fd); /* child sees EOF and exits */

    int status = 0;
    pid_t w;
    do {
        w = waitpid(pid, &status, 0);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
        perror("waitpid");
        return 1;
    }
    if (failed) {
        fprintf(stderr, "pingpong: round trip failed: %s\n",
                saved_errno ? strerror(saved_errno) : "echo mismatch or EOF");
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pingpong: child exited abnormally (status %d)\n", status);
        return 1;
    }

    printf("{\"demo\":\"pingpong-c\",\"round_trips\":%ld,\"round_trip_us\":%.4f}\n",
           n, elapsed / (double)n * 1e6);
    return 0;
}
