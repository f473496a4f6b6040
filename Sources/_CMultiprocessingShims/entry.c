// Worker entry without a `__main__` guard.
//
// A spawned child re-executes the parent's own binary. It must run the worker loop instead of the
// program's `main`, yet after every constructor (libdispatch, the Swift runtime) has run. A C
// constructor is too early with a static stdlib (Dispatch is not initialised yet), so we interpose
// glibc's `__libc_start_main` (which `_start` calls) and swap `main` for the worker entry when the
// worker token is in the environment. `environ` is not set yet here, so the token is read from envp,
// which follows argv's terminating NULL. Works for any executable that links this library, the
// `swift test` runner included.
#include "mpshim.h"

#include <dlfcn.h>
#include <string.h>

typedef int (*mpshim_main_fn)(int, char **, char **);
typedef int (*mpshim_libc_start_main_fn)(mpshim_main_fn, int, char **, void (*)(void), void (*)(void),
                                          void (*)(void), void *);

/// Defined in Swift (`@_cdecl`) by the Multiprocessing module. Weak so that this object links even
/// where the Swift side was dead-stripped; then worker mode is simply unavailable.
extern int mpshim_swift_worker_main(int argc, char **argv) __attribute__((weak));

static const char *worker_token;

const char *mpshim_worker_token(void) { return worker_token; }

static int worker_main_trampoline(int argc, char **argv, char **envp) {
    (void)envp;
    return mpshim_swift_worker_main(argc, argv);
}

int __libc_start_main(mpshim_main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end) {
    mpshim_libc_start_main_fn real = (mpshim_libc_start_main_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    const size_t prefix_length = strlen(MPSHIM_WORKER_TOKEN "=");
    for (char **entry = argv + argc + 1; *entry != NULL; entry++) {
        if (strncmp(*entry, MPSHIM_WORKER_TOKEN "=", prefix_length) == 0) {
            if (mpshim_swift_worker_main != NULL) {
                worker_token = *entry + prefix_length;
                main = worker_main_trampoline;
            }
            break;
        }
    }
    return real(main, argc, argv, init, fini, rtld_fini, stack_end);
}
