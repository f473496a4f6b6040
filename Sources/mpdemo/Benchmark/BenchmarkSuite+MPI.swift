#if MPI
import Foundation

/// The MPI rows, when built with the MPI trait: each side runs as its own `mpirun` job.
extension BenchmarkSuite {
    static func mpiGroups(_ sizes: BenchmarkSizes) -> [BenchmarkGroup] {
        let iterations = sizes.roundTrips
        let selfPath = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let pingPong: (String) throws -> [String: Double] = { threadLevel in
            let figures = try MPILaunch.figures(
                ranks: 2,
                [selfPath, "mpi-pingpong", "--json", "--iterations", "\(iterations)", "--thread-level", threadLevel]
            )
            return figures.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
        let pythonScript = PythonRunner.scriptDirectory.appendingPathComponent("mpi_pingpong.py").path
        let poolScript = PythonRunner.scriptDirectory.appendingPathComponent("mpi_pool_bench.py").path
        let count = sizes.tinyTasks
        return [
            BenchmarkGroup(
                name: "mpi-vs-c",
                metrics: [
                    Metric(
                        id: "mpi.latency-8b-vs-c",
                        label: "MPI ping-pong 8 B, numbers: vs plain C (THREAD_MULTIPLE)",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "latency_8b_us",
                        pythonPath: ["multiple", "latency_8b_us"]
                    ),
                    Metric(
                        id: "mpi.latency-8b-vs-c-single",
                        label: "MPI ping-pong 8 B, numbers: vs plain C (THREAD_SINGLE)",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "single_latency_8b_us",
                        pythonPath: ["single", "latency_8b_us"]
                    ),
                    Metric(
                        id: "mpi.bandwidth-1mib-vs-c",
                        label: "MPI ping-pong 1 MiB, numbers: vs plain C (THREAD_MULTIPLE)",
                        unit: "GB/s",
                        direction: .higher,
                        swiftKey: "bandwidth_1mib_gbps",
                        pythonPath: ["multiple", "bandwidth_1mib_gbps"]
                    ),
                ],
                runSwift: {
                    var figures = try pingPong("multiple")
                    for (key, value) in try pingPong("single") { figures["single_" + key] = value }
                    return figures
                },
                pythonScript: "../mpi/pingpong.c",
                pythonArguments: [],
                runPeer: { _ in
                    [
                        "multiple": try MPIPingPong.runC(iterations: iterations, threadMultiple: true),
                        "single": try MPIPingPong.runC(iterations: iterations, threadMultiple: false),
                    ]
                }
            ),
            BenchmarkGroup(
                name: "mpi-vs-mpi4py",
                metrics: [
                    Metric(
                        id: "mpi.latency-8b-value",
                        label: "MPI ping-pong 8 B, Codable Int vs pickled bytes",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "latency_8b_codable_us",
                        pythonPath: ["latency_8b_us"]
                    ),
                    Metric(
                        id: "mpi.latency-8b-buffer",
                        label: "MPI ping-pong 8 B, numbers vs mpi4py Send/Recv",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "latency_8b_us",
                        pythonPath: ["latency_8b_buffer_us"]
                    ),
                    Metric(
                        id: "mpi.bandwidth-1mib",
                        label: "MPI ping-pong 1 MiB, numbers vs mpi4py Send/Recv",
                        unit: "GB/s",
                        direction: .higher,
                        swiftKey: "bandwidth_1mib_gbps",
                        pythonPath: ["bandwidth_1mib_buffer_gbps"]
                    ),
                    Metric(
                        id: "mpi.latency-8b-async",
                        label: "MPI ping-pong 8 B, async send/receive (Swift only)",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "latency_8b_async_us",
                        pythonPath: nil
                    ),
                ],
                runSwift: { try pingPong("multiple") },
                pythonScript: "mpi_pingpong.py",
                pythonArguments: [],
                runPeer: { python in
                    try MPILaunch.figures(ranks: 2, [python, pythonScript, "--iterations", "\(iterations)", "--json"])
                }
            ),
            BenchmarkGroup(
                name: "mpi-pool",
                metrics: [
                    Metric(
                        id: "mpi-pool.chunk1",
                        label: "MPIPool.map tiny tasks, chunk 1: vs MPIPoolExecutor",
                        unit: "tasks/s",
                        direction: .higher,
                        swiftKey: "map_chunk1_per_second",
                        pythonPath: ["map_chunk1_per_second"]
                    ),
                    Metric(
                        id: "mpi-pool.chunked",
                        label: "MPIPool.map tiny tasks, count/(4·workers) chunks",
                        unit: "tasks/s",
                        direction: .higher,
                        swiftKey: "map_chunked_per_second",
                        pythonPath: ["map_chunked_per_second"]
                    ),
                    Metric(
                        id: "mpi-pool.chunked-bitwise",
                        label: "MPIPool.map, same chunks, task BitwiseCodable",
                        unit: "tasks/s",
                        direction: .higher,
                        swiftKey: "map_chunked_bitwise_per_second",
                        pythonPath: ["map_chunked_per_second"]
                    ),
                    Metric(
                        id: "mpi-pool.submit",
                        label: "MPIPool.submit each tiny task: vs MPIPoolExecutor",
                        unit: "tasks/s",
                        direction: .higher,
                        swiftKey: "submit_per_second",
                        pythonPath: ["submit_per_second"]
                    ),
                ],
                runSwift: {
                    let figures = try MPILaunch.figures(
                        ranks: 3,
                        [selfPath, "mpi-pool-rate", "--json", "--count", "\(count)"]
                    )
                    return figures.compactMapValues { ($0 as? NSNumber)?.doubleValue }
                },
                pythonScript: "mpi_pool_bench.py",
                pythonArguments: [],
                runPeer: { python in
                    try MPILaunch.figures(
                        ranks: 3,
                        [python, "-m", "mpi4py.futures", poolScript, "--count", "\(count)", "--json"]
                    )
                }
            ),
        ]
    }
}
#endif
