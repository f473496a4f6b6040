import ArgumentParser
import Foundation
import Multiprocessing

#if MPI
import MultiprocessingMPI
#endif

/// Demo #2: `with Pool(5) as p: print(p.map(Fibonacci_driver, [40] * 5))`.
struct PoolDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Demo #2: a pool of worker processes maps fib(n) over a list."
    )

    @Option(help: "The Fibonacci number each task computes (the slide's 40).")
    var n = 40

    @Option(help: "Worker processes in the pool (the slide's Pool(5)).")
    var workers = 5

    @Option(help: "How many fib(n) tasks to map.")
    var tasks = 5

    @Flag(help: "Draw a progress bar on standard error as tasks complete.")
    var progress = false

    @Flag(
        help: ArgumentHelp(
            "Map on an MPIPool: under mpirun the other ranks are the workers (--workers is ignored); "
                + "alone, local processes. Needs a build with --traits MPI.",
            discussion: "mpirun -np 6 .build/release/mpdemo pool --mpi"
        )
    )
    var mpi = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard n >= 1, n <= 60 else { throw ValidationError("--n must be between 1 and 60") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard tasks >= 1 else { throw ValidationError("--tasks must be at least 1") }
        #if !MPI
        if mpi {
            throw ValidationError("--mpi needs a build with the MPI trait: swift build -c release --traits MPI")
        }
        #endif
    }

    func run() throws {
        let quiet = common.json
        var where_ = "\(workers) worker processes"
        var usedWorkers = workers
        let results: [Int]
        let seconds: Double
        if mpi {
            #if MPI
            // Every rank gets here; the worker ranks serve inside MPIPool() and are done after it.
            guard let measured = try Self.measureOnMPI(n: n, workers: workers, tasks: tasks) else { return }
            (results, seconds, where_, usedWorkers) = measured
            #else
            preconditionFailure("validate() refuses --mpi without the MPI trait")
            #endif
        } else {
            (results, seconds) = try Self.measure(
                n: n,
                workers: workers,
                tasks: tasks,
                progress: progress ? PoolProgress.terminalBar : nil
            )
        }
        // The best any pool could do: rounds of one fib(n) each, as many at once as there are cores.
        let clock = ContinuousClock()
        let oneStart = clock.now
        precondition(fibonacci(n) == results.first)
        let one = (clock.now - oneStart) / .seconds(1)
        let parallel = min(usedWorkers, WorkerContext.cpuCount)
        let ideal = Double((tasks + parallel - 1) / parallel) * one
        if !quiet {
            print(results)
            print("Processes completed their tasks in \(seconds) s! (\(where_))")
            print(
                "Ideal on \(WorkerContext.cpuCount) cores (\((tasks + parallel - 1) / parallel) rounds of one fib(\(n)) "
                    + "= \(String(format: "%.3f", one)) s): \(String(format: "%.3f", ideal)) s; "
                    + "the pool took \(String(format: "%.1f", abs(seconds / ideal - 1) * 100))% "
                    + (seconds >= ideal
                        ? "more" : "less (more processes than cores share them: fewer than that many rounds)") + "\n"
            )
        }
        var figures = JSONObject()
        figures["ideal_seconds"] = ideal
        figures["demo"] = "pool"
        figures["language"] = "swift"
        figures["n"] = n
        figures["workers"] = workers
        figures["tasks"] = tasks
        figures["results"] = results
        figures["seconds"] = seconds
        figures["workers_used"] = where_
        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python).run(
                "pool_demo.py",
                ["--n", "\(n)", "--workers", "\(workers)", "--tasks", "\(tasks)"]
            )
            figures["python"] = python.asJSONObject
            if !quiet {
                let pythonSeconds = (python["seconds"] as? Double) ?? .nan
                print("CPython (Benchmarks/python/pool_demo.py): \(python["results"] ?? "?")")
                print(
                    "Processes completed their tasks in \(pythonSeconds) s: "
                        + "Swift is \(String(format: "%.1f", pythonSeconds / seconds))× faster"
                )
            }
        }
        if quiet { print(figures.text) }
    }

    #if MPI
    /// The slide's program on an ``MPIPool``: `nil` on the worker ranks, which served the root.
    static func measureOnMPI(
        n: Int,
        workers: Int,
        tasks: Int
    ) throws -> (results: [Int], seconds: Double, description: String, workers: Int)? {
        // MPI_Init is the job's start-up, not the pool's: done before the clock.
        let world = try MPICommunicator.world
        let clock = ContinuousClock()
        let start = clock.now
        guard let pool = try MPIPool(localWorkers: workers) else { return nil }
        let results = try waitForAsync {
            try await pool.map(Array(repeating: FibonacciTask(n: n, quiet: true), count: tasks))
        }
        pool.close()
        let description =
            world.size == 1
            ? "MPIPool alone (no mpirun): \(pool.workerCount) local worker processes"
            : "MPIPool: rank 0 of \(world.size) scheduled, \(pool.workerCount) worker ranks"
        return (results, (clock.now - start) / .seconds(1), description, pool.workerCount)
    }
    #endif

    /// The slide's program: a pool of `workers` maps fib(n) over `tasks` copies of `n`; the time
    /// covers the pool's start and shutdown, as `with Pool(…)` does.
    static func measure(
        n: Int,
        workers: Int,
        tasks: Int,
        progress: (@Sendable (PoolProgress) -> Void)? = nil
    ) throws -> (results: [Int], seconds: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let pool = ProcessPool(workers: workers)
        let results = try pool.map(
            Array(repeating: FibonacciTask(n: n, quiet: true), count: tasks),
            progress: progress
        )
        pool.close()
        return (results, (clock.now - start) / .seconds(1))
    }
}

/// The pool rows of `mpdemo bench`, against `pool_bench.py`.
enum PoolMeasurements {
    /// Tiny tasks (`x * 2`) per second through `map`, on a pool of 2 already started.
    static func tinyMap(count: Int, chunkSize: Int?, bitwise: Bool = false) throws -> Double {
        bitwise
            ? try tinyMap(count: count, chunkSize: chunkSize, making: BitwiseTwiceTask.init)
            : try tinyMap(count: count, chunkSize: chunkSize, making: TwiceTask.init)
    }

    private static func tinyMap<Task: ParallelTask>(
        count: Int,
        chunkSize: Int?,
        making make: (Int) -> Task
    ) throws -> Double where Task.Output == Int {
        let pool = ProcessPool(workers: 2)
        defer { pool.close() }
        _ = try pool.map((0..<10).map(make), chunkSize: 1)  // workers up before the clock
        let tasks = (0..<count).map(make)
        let clock = ContinuousClock()
        let start = clock.now
        let results = try pool.map(tasks, chunkSize: chunkSize)
        let seconds = (clock.now - start) / .seconds(1)
        precondition(results.last == 2 * (count - 1))
        return Double(count) / seconds
    }

    /// Tiny tasks per second, each submitted on its own and awaited as a future.
    static func tinySubmit(count: Int) throws -> Double {
        try waitForAsync {
            let pool = ProcessPool(workers: 2)
            defer { pool.close() }
            _ = try await pool.map((0..<10).map(TwiceTask.init), chunkSize: 1)
            let clock = ContinuousClock()
            let start = clock.now
            let futures = (0..<count).map { pool.submit(TwiceTask($0)) }
            var total = 0
            for future in futures { total += try await future.value }
            let seconds = (clock.now - start) / .seconds(1)
            precondition(total == count * (count - 1))
            return Double(count) / seconds
        }
    }

    /// Seconds to start a pool of 2, get one result and close it: the median of 5 (the fork
    /// server, like Python's, is started by the first and kept).
    static func startup(startMethod: StartMethod) throws -> Double {
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<5 {
            let start = clock.now
            let pool = ProcessPool(workers: 2, startMethod: startMethod)
            let answer = try pool.apply(TwiceTask(21))
            precondition(answer == 42)
            pool.close()
            times.append((clock.now - start) / .seconds(1))
        }
        return times.sorted()[2]
    }
}

/// `x * 2`: the tiny task of the pool rows, coded through its `Codable` conformance.
struct TwiceTask: ParallelTask {
    var value: Int
    init(_ value: Int) { self.value = value }
    func run() -> Int { value * 2 }
}

/// The same task declared ``BitwiseCodable`` (its bytes are the value), as the documentation
/// suggests for plain numeric tasks: a chunk of them crosses as one memory copy.
struct BitwiseTwiceTask: ParallelTask, BitwiseCodable {
    var value: Int
    init(_ value: Int) { self.value = value }
    func run() -> Int { value * 2 }
}
