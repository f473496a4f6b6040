// Listening and connecting sockets: building a sockaddr (a union with a flexible path) and
// resolving a host are what Swift reaches only awkwardly.
#include "mpshim.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/// Fills a Unix address; abstract names start with a NUL byte. Returns its length or -1/errno.
static int unix_address(struct sockaddr_un *address, int abstract, const char *name) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    size_t length = strlen(name);
    size_t offset = abstract ? 1 : 0;
    // A path needs its terminating NUL; an abstract name is its bytes exactly.
    if (length + offset + (abstract ? 0 : 1) > sizeof address->sun_path || length == 0) {
        errno = length == 0 ? EINVAL : ENAMETOOLONG;
        return -1;
    }
    memcpy(address->sun_path + offset, name, length);
    return (int)(offsetof(struct sockaddr_un, sun_path) + offset + length + (abstract ? 0 : 1));
}

/// Resolves `host`:`port` for a stream socket (numeric addresses and names). Returns 0 or -1/errno.
static int inet_address(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *length) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo *found = NULL;
    int status = getaddrinfo(host, service, &hints, &found);
    if (status != 0 || found == NULL) {
        errno = status == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
        return -1;
    }
    memcpy(out, found->ai_addr, found->ai_addrlen);
    *length = found->ai_addrlen;
    freeaddrinfo(found);
    return 0;
}

static int make_address(int kind, const char *name, uint16_t port, struct sockaddr_storage *storage,
                        socklen_t *length) {
    if (kind == MPSHIM_ADDRESS_TCP) return inet_address(name, port, storage, length);
    int unix_length = unix_address((struct sockaddr_un *)storage, kind == MPSHIM_ADDRESS_ABSTRACT, name);
    if (unix_length < 0) return -1;
    *length = (socklen_t)unix_length;
    return 0;
}

int mpshim_listen(int kind, const char *name, uint16_t port, int backlog, uint16_t *bound_port) {
    struct sockaddr_storage storage;
    socklen_t length = 0;
    if (make_address(kind, name, port, &storage, &length) < 0) return -1;
    int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (kind == MPSHIM_ADDRESS_TCP) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (bind(fd, (struct sockaddr *)&storage, length) < 0 || listen(fd, backlog) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (kind == MPSHIM_ADDRESS_TCP && bound_port != NULL) {
        struct sockaddr_storage bound;
        socklen_t bound_length = sizeof bound;
        if (getsockname(fd, (struct sockaddr *)&bound, &bound_length) == 0) {
            *bound_port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                                      : ntohs(((struct sockaddr_in *)&bound)->sin_port);
        }
    }
    return fd;
}

int mpshim_connect(int kind, const char *name, uint16_t port, int nonblocking, int *in_progress) {
    *in_progress = 0;
    struct sockaddr_storage storage;
    socklen_t length = 0;
    if (make_address(kind, name, port, &storage, &length) < 0) return -1;
    int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    if (kind == MPSHIM_ADDRESS_TCP) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int result;
    do {
        result = connect(fd, (struct sockaddr *)&storage, length);
    } while (result < 0 && errno == EINTR && !nonblocking);
    if (result < 0) {
        // EINPROGRESS: a TCP connection on its way. (EAGAIN from a Unix socket is not that: the
        // listener's backlog is full and nothing is on its way; the caller tries again.)
        if (nonblocking && errno == EINPROGRESS) {
            *in_progress = 1;
            return fd;
        }
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int mpshim_accept(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return -1;
    struct sockaddr_storage local;
    socklen_t length = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &length) == 0 && local.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

int mpshim_finish_connect(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return -1;
    if (error != 0) {
        errno = error;
        return -1;
    }
    // The connection is made: back to blocking, as every Connection's socket is.
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}
