import ArgumentParser
import Foundation
import Multiprocessing

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

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard n >= 1, n <= 60 else { throw ValidationError("--n must be between 1 and 60") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard tasks >= 1 else { throw ValidationError("--tasks must be at least 1") }
    }

    func run() throws {
        let quiet = common.json
        let (results, seconds) = try Self.measure(n: n, workers: workers, tasks: tasks)
        if !quiet {
            print(results)
            print("Processes completed their tasks in \(seconds) s!\n")
        }
        var figures = JSONObject()
        figures["demo"] = "pool"
        figures["language"] = "swift"
        figures["n"] = n
        figures["workers"] = workers
        figures["tasks"] = tasks
        figures["results"] = results
        figures["seconds"] = seconds
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

    /// The slide's program: a pool of `workers` maps fib(n) over `tasks` copies of `n`; the time
    /// covers the pool's start and shutdown, as `with Pool(…)` does.
    static func measure(n: Int, workers: Int, tasks: Int) throws -> (results: [Int], seconds: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let pool = ProcessPool(workers: workers)
        let results = try pool.map(Array(repeating: FibonacciTask(n: n, quiet: true), count: tasks))
        pool.close()
        return (results, (clock.now - start) / .seconds(1))
    }
}
