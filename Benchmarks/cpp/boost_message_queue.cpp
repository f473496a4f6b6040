// The peer for Demo 6: 10^6 integers through a Boost.Interprocess message_queue to a reader
// process, timed from the first send to the reader's exit (the reader is started first, as in
// mpdemo queue). The end is a message of -1, the slide's 'DONE'.
//
//   g++ -O2 -o boost_message_queue Benchmarks/cpp/boost_message_queue.cpp -lpthread -lrt   # needs libboost-dev
//   ./boost_message_queue [count, default 1000000] [capacity in messages, default 65536]
//
// Prints one JSON line: {"language": "c++", "count": ..., "messages_per_s": ...}
#include <boost/interprocess/ipc/message_queue.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ipc = boost::interprocess;

int main(int argc, char **argv) {
    long count = argc > 1 ? std::atol(argv[1]) : 1000000;
    long capacity = argc > 2 ? std::atol(argv[2]) : 65536;
    std::string name = "mpdemo-peer-" + std::to_string(getpid());
    ipc::message_queue::remove(name.c_str());
    ipc::message_queue queue(ipc::create_only, name.c_str(), capacity, sizeof(long));
    pid_t reader = fork();
    if (reader == 0) {
        ipc::message_queue mine(ipc::open_only, name.c_str());
        long value = 0;
        ipc::message_queue::size_type received = 0;
        unsigned int priority = 0;
        do { mine.receive(&value, sizeof value, received, priority); } while (value != -1);
        _exit(0);
    }
    auto start = std::chrono::steady_clock::now();
    for (long number = 0; number < count; number++) queue.send(&number, sizeof number, 0);
    long done = -1;
    queue.send(&done, sizeof done, 0);
    waitpid(reader, nullptr, 0);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ipc::message_queue::remove(name.c_str());
    std::printf("{\"language\": \"c++\", \"count\": %ld, \"messages_per_s\": %.0f}\n", count, count / seconds);
    return 0;
}
