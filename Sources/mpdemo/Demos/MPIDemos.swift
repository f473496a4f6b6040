#if MPI
import ArgumentParser
import Foundation
import Multiprocessing
import MultiprocessingMPI

/// Running under `mpirun`, or starting `mpirun` when this process was not started by it.
enum MPILaunch {
    /// Whether `mpirun` started this process (Open MPI tells its ranks their world size).
    static var isUnderMPIRun: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    /// `mpirun -np ranks command…`, allowed as root and past the core count, with this
    /// environment minus Open MPI's own variables (an `mpirun` that inherits them exits at once).
    static func command(ranks: Int, _ command: [String]) -> [String] {
        ["mpirun", "--oversubscribe", "-np", "\(ranks)"] + command
    }

    static var environment: [String: String] { mpirunEnvironment(ProcessInfo.processInfo.environment) }

    /// Runs `command` under `mpirun` on `ranks` ranks and returns what rank 0 printed.
    static func capture(ranks: Int, _ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = self.command(ranks: ranks, command)
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch {
            throw PythonRunner.Failure(description: "cannot run mpirun (install openmpi-bin): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonRunner.Failure(
                description: "\(process.arguments!.joined(separator: " ")) exited with \(process.terminationStatus)"
            )
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs this same command again under `mpirun` on `ranks` ranks, passing its output through.
    static func relaunchSelf(ranks: Int) throws -> Never {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let output = try capture(ranks: ranks, [executable] + CommandLine.arguments.dropFirst())
        print(output, terminator: "")
        throw ExitCode.success
    }

    /// The JSON object rank 0 printed last, from `capture`.
    static func figures(ranks: Int, _ command: [String]) throws -> [String: Any] {
        let output = try capture(ranks: ranks, command)
        guard let object = PythonRunner.lastJSONObject(in: output) else {
            throw PythonRunner.Failure(
                description: "\(command.joined(separator: " ")) printed no JSON: \(output.suffix(500))"
            )
        }
        return object
    }
}

/// `mpdemo mpi-pingpong`: latency and bandwidth between two ranks through ``MPICommunicator``,
/// next to the same exchange in plain C and in mpi4py.
struct MPIPingPongDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-pingpong",
        abstract:
            "MPI ping-pong between 2 ranks: 8-byte latency and 1 MiB bandwidth (starts mpirun itself when needed).",
        discussion: "With --vs-c, the same exchange in plain C (Benchmarks/mpi/pingpong.c, built with mpicc); "
            + "with --vs-python, in mpi4py (Benchmarks/python/mpi_pingpong.py; pip install mpi4py)."
    )

    @Option(help: "Round trips timed for 8 bytes (a tenth of them, at least 10, for 1 MiB).")
    var iterations = 10_000

    @Flag(help: "Also run the plain C ping-pong against the same Open MPI, at the same thread level.")
    var vsC = false

    @Option(
        help: ArgumentHelp(
            "MPI's thread level: multiple (the library's default; async forms and pools need it) or single.",
            discussion: "Open MPI takes a lock on every call at multiple; single measures the wrapper alone."
        )
    )
    var threadLevel = "multiple"

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard ["single", "multiple"].contains(threadLevel) else {
            throw ValidationError("--thread-level must be single or multiple")
        }
    }

    func run() throws {
        guard MPILaunch.isUnderMPIRun else { try MPILaunch.relaunchSelf(ranks: 2) }
        let multiple = threadLevel == "multiple"
        try MPICommunicator.initialize(threadLevel: multiple ? .multiple : .single)
        let world = try MPICommunicator.world
        guard world.size == 2 else {
            throw ValidationError("mpi-pingpong needs exactly 2 ranks, not \(world.size)")
        }
        let figures = try MPIPingPong.measure(world, iterations: iterations, async: multiple)
        guard world.rank == 0 else { return }
        var peers: [(String, [String: Any])] = []
        // Rank 0 starts the peers once the Swift ranks are done; rank 1 has returned by then.
        if vsC { peers.append(("C", try MPIPingPong.runC(iterations: iterations, threadMultiple: multiple))) }
        if common.vsPython {
            peers.append(
                (
                    "mpi4py",
                    try MPILaunch.figures(
                        ranks: 2,
                        [common.python, PythonRunner.scriptDirectory.appendingPathComponent("mpi_pingpong.py").path]
                            + ["--iterations", "\(iterations)", "--json"]
                    )
                )
            )
        }
        if common.json {
            var object = JSONObject()
            object["demo"] = "mpi-pingpong"
            object["language"] = "swift"
            object["thread_level"] = threadLevel
            for (key, value) in figures.sorted(by: { $0.key < $1.key }) { object[key] = value }
            for (name, peer) in peers { object[name.lowercased()] = peer.asJSONObject }
            print(object.text)
            return
        }
        print(
            "MPI ping-pong between 2 ranks, \(iterations) round trips, thread level \(threadLevel) (one-way latency):"
        )
        print("  8 B, numbers as memory (send(contentsOf:)):  \(format(figures["latency_8b_us"]!)) µs")
        print("  8 B, a Codable Int (send(_:to:)):            \(format(figures["latency_8b_codable_us"]!)) µs")
        if let async = figures["latency_8b_async_us"] {
            print("  8 B, async send and receive:                 \(format(async)) µs")
        }
        print("  1 MiB, numbers as memory:                    \(format(figures["bandwidth_1mib_gbps"]!)) GB/s")
        for (name, peer) in peers {
            let latency = BenchmarkCommand.number(at: ["latency_8b_us"], in: peer) ?? .nan
            let bandwidth = BenchmarkCommand.number(at: ["bandwidth_1mib_gbps"], in: peer) ?? .nan
            print(
                "\(name): 8 B \(format(latency)) µs (Swift costs \(String(format: "%+.0f", (figures["latency_8b_us"]! / latency - 1) * 100))%), "
                    + "1 MiB \(format(bandwidth)) GB/s"
            )
            if let buffer = BenchmarkCommand.number(at: ["latency_8b_buffer_us"], in: peer) {
                print("\(name) buffer API (Send/Recv): 8 B \(format(buffer)) µs")
            }
        }
    }
}

/// The exchanges of ``MPIPingPongDemo``, the same as `Benchmarks/mpi/pingpong.c`'s.
enum MPIPingPong {
    static func measure(_ world: MPICommunicator, iterations: Int, async: Bool) throws -> [String: Double] {
        let peer = 1 - world.rank
        let isFirst = world.rank == 0
        var figures: [String: Double] = [:]

        // 8 bytes as memory, received into a fixed buffer, as the C program does.
        var small = [UInt8](repeating: 7, count: 8)
        func bounce(_ buffer: inout [UInt8], _ count: Int) throws {
            try buffer.withUnsafeMutableBufferPointer { buffer in
                let readOnly = UnsafeBufferPointer(buffer)
                for _ in 0..<count {
                    if isFirst {
                        try world.send(contentsOf: readOnly, to: peer)
                        try world.receive(into: buffer, from: peer, tag: 0)
                    } else {
                        try world.receive(into: buffer, from: peer, tag: 0)
                        try world.send(contentsOf: readOnly, to: peer)
                    }
                }
            }
        }
        try bounce(&small, 1_000)
        try world.barrier()
        figures["latency_8b_us"] = try oneWay(iterations) { try bounce(&small, iterations) }

        // A Codable Int through the library's encoding: the peer of mpi4py's pickled send.
        func bounceValue(_ count: Int) throws {
            var value = 42
            for _ in 0..<count {
                if isFirst {
                    try world.send(value, to: peer)
                    value = try world.receive(Int.self, from: peer, tag: 0)
                } else {
                    value = try world.receive(Int.self, from: peer, tag: 0)
                    try world.send(value, to: peer)
                }
            }
        }
        try bounceValue(1_000)
        try world.barrier()
        figures["latency_8b_codable_us"] = try oneWay(iterations) { try bounceValue(iterations) }

        // The async forms: each wait may park on the progress thread.
        let asyncCount = max(10, iterations / 10)
        if async {
            figures["latency_8b_async_us"] = try oneWay(asyncCount) {
                try waitForAsync {
                    for _ in 0..<asyncCount {
                        if isFirst {
                            try await world.send(42, to: peer)
                            _ = try await world.receive(Int.self, from: peer, tag: 0)
                        } else {
                            let value = try await world.receive(Int.self, from: peer, tag: 0)
                            try await world.send(value, to: peer)
                        }
                    }
                }
            }
        }

        // 1 MiB as memory.
        var large = [UInt8](repeating: 1, count: 1 << 20)
        let largeCount = max(10, iterations / 10)
        try bounce(&large, 100)
        try world.barrier()
        let latency = try oneWay(largeCount) { try bounce(&large, largeCount) }
        figures["latency_1mib_us"] = latency
        // Bytes moved both ways per round trip, as the C program counts them.
        figures["bandwidth_1mib_gbps"] = Double(1 << 20) / (latency / 1e6) / 1e9
        return figures
    }

    /// One-way microseconds per message of `body`, which makes `count` round trips.
    private static func oneWay(_ count: Int, _ body: () throws -> Void) throws -> Double {
        try mpdemo.measure(body) / Double(count) / 2 * 1e6
    }

    /// Builds `Benchmarks/mpi/pingpong.c` with `mpicc` (once per run) and runs it on 2 ranks.
    static func runC(iterations: Int, threadMultiple: Bool) throws -> [String: Any] {
        let source = PythonRunner.scriptDirectory.deletingLastPathComponent().appendingPathComponent("mpi/pingpong.c")
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("mpdemo-mpi-pingpong-\(getpid())")
            .path
        if !FileManager.default.fileExists(atPath: binary) {
            _ = try PythonRunner.capture(["mpicc", "-O2", source.path, "-o", binary])
        }
        return try MPILaunch.figures(
            ranks: 2,
            [binary, "--iterations", "\(iterations)", "--json"] + (threadMultiple ? ["--thread-multiple"] : [])
        )
    }
}

/// `mpdemo mpi-pool-rate`: tiny tasks per second through ``MPIPool``, the peer of
/// `mpi4py.futures` (Benchmarks/python/mpi_pool_bench.py).
struct MPIPoolRateDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-pool-rate",
        abstract: "Tiny tasks per second through MPIPool on 1 root + 2 worker ranks (starts mpirun itself when needed)."
    )

    @Option(help: "Tasks per measurement.")
    var count = 20_000

    @OptionGroup var common: CommonOptions

    func run() throws {
        guard MPILaunch.isUnderMPIRun else { try MPILaunch.relaunchSelf(ranks: 3) }
        guard let pool = try MPIPool() else { return }
        defer { pool.close() }
        let figures = try waitForAsync { try await Self.measure(pool, count: count) }
        var object = JSONObject()
        object["demo"] = "mpi-pool-rate"
        object["language"] = "swift"
        object["workers"] = pool.workerCount
        object["count"] = count
        for (key, value) in figures.sorted(by: { $0.key < $1.key }) { object[key] = value }
        if common.vsPython {
            let python = try MPILaunch.figures(
                ranks: 3,
                [common.python, "-m", "mpi4py.futures"]
                    + [PythonRunner.scriptDirectory.appendingPathComponent("mpi_pool_bench.py").path]
                    + ["--count", "\(count)", "--json"]
            )
            object["python"] = python.asJSONObject
        }
        print(object.text)
    }

    static func measure(_ pool: MPIPool, count: Int) async throws -> [String: Double] {
        _ = try await pool.map((0..<10).map(TwiceTask.init), chunkSize: 1)
        let tasks = (0..<count).map(TwiceTask.init)
        let clock = ContinuousClock()
        func rate(_ body: () async throws -> Void) async throws -> Double {
            let start = clock.now
            try await body()
            return Double(count) / ((clock.now - start) / .seconds(1))
        }
        var figures: [String: Double] = [:]
        figures["map_chunk1_per_second"] = try await rate {
            let results = try await pool.map(tasks, chunkSize: 1)
            precondition(results.last == 2 * (count - 1))
        }
        figures["map_chunked_per_second"] = try await rate {
            let results = try await pool.map(tasks, chunkSize: max(1, count / (4 * pool.workerCount)))
            precondition(results.last == 2 * (count - 1))
        }
        // The same task declared BitwiseCodable: a chunk crosses as one memory copy.
        let bitwise = (0..<count).map(BitwiseTwiceTask.init)
        figures["map_chunked_bitwise_per_second"] = try await rate {
            let results = try await pool.map(bitwise, chunkSize: max(1, count / (4 * pool.workerCount)))
            precondition(results.last == 2 * (count - 1))
        }
        figures["submit_per_second"] = try await rate {
            let futures = tasks.map { pool.submit($0) }
            for future in futures { _ = try await future.value }
        }
        return figures
    }
}
#endif
