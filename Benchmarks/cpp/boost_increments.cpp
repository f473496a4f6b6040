// The peer for "SharedValue increments under its lock, 2 processes": a counter in shared memory
// next to a Boost.Interprocess interprocess_mutex, incremented by two processes at once, timed the
// same way as the Swift and Python rows (the child's start is not measured; a go flag starts both).
//
//   g++ -O2 -o boost_increments Benchmarks/cpp/boost_increments.cpp -lpthread   # needs libboost-dev
//   ./boost_increments [increments per process, default 1000000]
//
// Prints one JSON line: {"language": "c++", "locked_increments_per_s": ...}
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace ipc = boost::interprocess;

struct Shared {
    ipc::interprocess_mutex mutex;
    alignas(64) long value = 0;
    alignas(64) std::atomic<int> ready{0};
    std::atomic<int> go{0};
};

static void increment(Shared *shared, long count) {
    for (long i = 0; i < count; i++) {
        ipc::scoped_lock<ipc::interprocess_mutex> lock(shared->mutex);
        shared->value += 1;
    }
}

int main(int argc, char **argv) {
    long count = argc > 1 ? std::atol(argv[1]) : 1000000;
    void *memory = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 1;
    Shared *shared = new (memory) Shared();
    pid_t child = fork();
    if (child == 0) {
        shared->ready.store(1);
        while (shared->go.load() == 0) {}
        increment(shared, count);
        _exit(0);
    }
    while (shared->ready.load() == 0) {}
    auto start = std::chrono::steady_clock::now();
    shared->go.store(1);
    increment(shared, count);
    waitpid(child, nullptr, 0);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (shared->value != 2 * count) return 2;
    std::printf("{\"language\": \"c++\", \"locked_increments_per_s\": %.0f}\n", 2 * count / seconds);
    return 0;
}
