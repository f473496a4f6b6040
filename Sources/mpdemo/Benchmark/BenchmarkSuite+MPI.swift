#if MPI
import Foundation

/// The MPI rows, when built with the MPI trait: each side runs as its own `mpirun` job.
extension BenchmarkSuite {
    static func mpiGroups(_ sizes: BenchmarkSizes) -> [BenchmarkGroup] {
        let iterations = sizes.roundTrips
        let selfPath = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let pingPong: () throws -> [String: Double] = {
            let figures = try MPILaunch.figures(
                ranks: 2,
                [selfPath, "mpi-pingpong", "--json", "--iterations", "\(iterations)"]
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
                        label: "MPI ping-pong 8 B, numbers: vs plain C",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "latency_8b_us",
                        pythonPath: ["latency_8b_us"]
                    ),
                    Metric(
                        id: "mpi.bandwidth-1mib-vs-c",
                        label: "MPI ping-pong 1 MiB, numbers: vs plain C",
                        unit: "GB/s",
                        direction: .higher,
                        swiftKey: "bandwidth_1mib_gbps",
                        pythonPath: ["bandwidth_1mib_gbps"]
                    ),
                ],
                runSwift: pingPong,
                pythonScript: "../mpi/pingpong.c",
                pythonArguments: [],
                runPeer: { _ in try MPIPingPong.runC(iterations: iterations) }
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
                runSwift: pingPong,
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
                    try MPILaunch.figures(ranks: 3, [python, "-m", "mpi4py.futures", poolScript, "--count", "\(count)", "--json"])
                }
            ),
        ]
    }
}
#endif
