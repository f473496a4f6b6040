/*
 * pingpong.c -- plain C / Open MPI peer for the Swift MPI wrapper's ping-pong.
 *
 * Build and run (exactly two ranks; as root Open MPI needs --allow-run-as-root):
 *     mpicc -O2 -o pingpong pingpong.c && mpirun --allow-run-as-root -np 2 ./pingpong --json
 *
 * What it measures: ranks 0 and 1 of MPI_COMM_WORLD bounce one message back
 * and forth.  Rank 0 MPI_Send's the message (MPI_BYTE, tag 0) to rank 1,
 * rank 1 MPI_Recv's it and MPI_Send's it back, rank 0 MPI_Recv's it: one
 * round trip.  Timed with MPI_Wtime on rank 0, after a warm-up and a barrier.
 *   (a) 8-byte messages: 1000 warm-up round trips, then N timed;
 *       latency_8b_us = seconds / N / 2 * 1e6 (one-way latency).
 *   (b) 1 MiB (1048576-byte) messages: 100 warm-up round trips, then
 *       M = max(10, N / 10) timed; latency_1mib_us as above and
 *       bandwidth_1mib_gbps = 2 * 1048576 * M / seconds / 1e9 (bytes moved in
 *       both directions, GB/s with GB = 10**9 bytes).
 * The Python peer is ../python/mpi_pingpong.py (mpi4py); the Swift demo CLI
 * runs the same exchange through its own MPI wrapper and shows them side by side.
 *
 * Usage:  pingpong [--iterations N (10000)] [--thread-multiple] [--json]
 * Output (rank 0 only): with --json one JSON line
 *   {"demo":"mpi-pingpong","language":"c","iterations":N,"bandwidth_iterations":M,
 *    "latency_8b_us":...,"latency_1mib_us":...,"bandwidth_1mib_gbps":...}
 * otherwise one "key: value" line per figure.  Exit 2 on bad arguments or a
 * world size other than 2.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_BYTES 8
#define LARGE_BYTES 1048576
#define SMALL_WARMUP 1000
#define LARGE_WARMUP 100

/* warmup + n round trips of `bytes`; returns the seconds of the n timed ones (on rank 0). */
static double pingpong(int rank, char *buf, int bytes, long warmup, long n)
{
    double start = 0.0;
    MPI_Barrier(MPI_COMM_WORLD);
    for (long i = 0; i < warmup + n; i++) {
        if (i == warmup)
            start = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(buf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(buf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
        }
    }
    return MPI_Wtime() - start;
}

int main(int argc, char **argv)
{
    /* --thread-multiple asks for MPI_THREAD_MULTIPLE, the level the Swift wrapper initialises with
     * by default (its async forms and pools call MPI from several threads); Open MPI then takes
     * locks on every call, so compare like with like. */
    int multiple = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--thread-multiple") == 0)
            multiple = 1;
    int provided;
    MPI_Init_thread(&argc, &argv, multiple ? MPI_THREAD_MULTIPLE : MPI_THREAD_SINGLE, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    long n = 10000;
    int json = 0;
    const char *error = NULL;
    char size_error[128];
    for (int i = 1; i < argc && !error; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--thread-multiple") == 0) {
            /* read before MPI_Init_thread */
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || end == argv[i] || n < 1)
                error = "--iterations must be an integer >= 1";
        } else {
            error = "usage: pingpong [--iterations N] [--thread-multiple] [--json]";
        }
    }
    if (!error && size != 2) {
        snprintf(size_error, sizeof size_error, "needs exactly 2 MPI ranks, world size is %d "
                 "(run: mpirun --allow-run-as-root -np 2 ./pingpong)", size);
        error = size_error;
    }
    if (error) {
        if (rank == 0)
            fprintf(stderr, "pingpong: %s\n", error);
        MPI_Finalize();
        return 2;
    }

    long bw_n = n / 10 < 10 ? 10 : n / 10;
    char *buf = calloc(LARGE_BYTES, 1);
    if (!buf) {
        perror("calloc");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    double small_s = pingpong(rank, buf, SMALL_BYTES, SMALL_WARMUP, n);
    double large_s = pingpong(rank, buf, LARGE_BYTES, LARGE_WARMUP, bw_n);
    free(buf);

    if (rank == 0) {
        double latency_8b_us = small_s / (double)n / 2.0 * 1e6;
        double latency_1mib_us = large_s / (double)bw_n / 2.0 * 1e6;
        double bandwidth_gbps = 2.0 * LARGE_BYTES * (double)bw_n / large_s / 1e9;
        if (json)
            printf("{\"demo\": \"mpi-pingpong\", \"language\": \"c\", \"iterations\": %ld, "
                   "\"bandwidth_iterations\": %ld, \"latency_8b_us\": %.4f, "
                   "\"latency_1mib_us\": %.4f, \"bandwidth_1mib_gbps\": %.4f}\n",
                   n, bw_n, latency_8b_us, latency_1mib_us, bandwidth_gbps);
        else
            printf("demo: mpi-pingpong\nlanguage: c\niterations: %ld\nbandwidth_iterations: %ld\n"
                   "latency_8b_us: %.4f\nlatency_1mib_us: %.4f\nbandwidth_1mib_gbps: %.4f\n",
                   n, bw_n, latency_8b_us, latency_1mib_us, bandwidth_gbps);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}
