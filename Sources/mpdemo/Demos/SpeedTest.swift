import ArgumentParser
import Foundation
import Multiprocessing

/// Demo #1: `threading.Thread` vs `multiprocessing.Process` on fib(n) × tasks, plus a sequential run.
struct SpeedTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speed-test",
        abstract: "Demo #1: fib(n) in threads, in processes and sequentially."
    )

    @Option(help: "Which Fibonacci number each task computes (the deck uses 40).")
    var n = 40

    @Option(help: "How many tasks run at once (the deck uses 5).")
    var tasks = 5

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...92).contains(n) else {
            throw ValidationError("--n must be between 1 and 92 (fib(93) overflows Int64)")
        }
        guard (1...512).contains(tasks) else { throw ValidationError("--tasks must be between 1 and 512") }
    }

    func run() throws {
        let quiet = common.json
        let result = try SpeedTestMeasurement(n: n, tasks: tasks, quiet: quiet).run()
        let (threadSeconds, processSeconds, sequentialSeconds) = (result.threads, result.processes, result.sequential)
        if !quiet {
            print(
                String(
                    format: "Speed-up over sequential: threads %.2f×, processes %.2f×",
                    sequentialSeconds / threadSeconds,
                    sequentialSeconds / processSeconds
                )
            )
            print(processSeconds < threadSeconds ? "Multiprocessing wins!" : "Multithreading wins!")
            print(
                """

                Why threads keep up here: Swift has no global interpreter lock, so \(tasks) WorkerThreads run \
                fib(\(n)) on every core at once, like processes do (minus the process start-up). In CPython \
                the GIL lets one thread run Python code at a time, which is why the deck's threads lost.
                """
            )
        }

        var figures = JSONObject()
        figures["demo"] = "speed-test"
        figures["language"] = "swift"
        figures["n"] = n
        figures["tasks"] = tasks
        figures["threads_s"] = threadSeconds
        figures["processes_s"] = processSeconds
        figures["sequential_s"] = sequentialSeconds
        figures["start_method"] = "spawn"

        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python)
                .run("speed_test.py", ["--n", "\(n)", "--tasks", "\(tasks)"])
            figures["python"] = python.asJSONObject
            if !quiet {
                print("\nSide by side with CPython (\(common.python) Benchmarks/python/speed_test.py):")
                printComparison([
                    ComparisonRow(
                        label: "threads",
                        unit: "s",
                        swift: threadSeconds,
                        other: python["threads_s"] as? Double,
                        better: .lower
                    ),
                    ComparisonRow(
                        label: "processes",
                        unit: "s",
                        swift: processSeconds,
                        other: python["processes_s"] as? Double,
                        better: .lower
                    ),
                    ComparisonRow(
                        label: "sequential",
                        unit: "s",
                        swift: sequentialSeconds,
                        other: python["sequential_s"] as? Double,
                        better: .lower
                    ),
                ])
            }
        }
        if quiet { print(figures.text) }
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The same figures as an ordered object, keys sorted, for embedding in our JSON.
    var asJSONObject: JSONObject {
        var object = JSONObject()
        for key in keys.sorted() {
            object[key] = self[key] is [String: Any] ? (self[key] as! [String: Any]).asJSONObject : self[key]
        }
        return object
    }
}

/// Demo #1's three timed runs, shared by `mpdemo speed-test` and `mpdemo bench`.
struct SpeedTestMeasurement {
    var n: Int
    var tasks: Int
    var quiet: Bool

    func run() throws -> (threads: Double, processes: Double, sequential: Double) {
        let (n, quiet) = (n, quiet)
        let threads = (0..<tasks).map { _ in
            WorkerThread { () -> Int in
                let value = fibonacci(n)
                if !quiet { printLine("Fib \(n) is \(value)") }
                return value
            }
        }
        let threadSeconds = try measure {
            for thread in threads { try thread.start() }
            for thread in threads { _ = try thread.value() }
        }
        if !quiet { print("Threads completed their tasks in \(threadSeconds) s!\n") }

        let children = (0..<tasks).map { _ in ChildProcess(running: FibonacciTask(n: n, quiet: quiet)) }
        let processSeconds = try measure {
            for child in children { try child.start() }
            for child in children { _ = try child.value() }
        }
        if !quiet { print("Processes completed their tasks in \(processSeconds) s!\n") }

        let sequentialSeconds = measure {
            for _ in 0..<tasks { _ = FibonacciTask(n: n, quiet: quiet).run() }
        }
        if !quiet { print("Sequential run completed in \(sequentialSeconds) s!\n") }
        return (threadSeconds, processSeconds, sequentialSeconds)
    }
}
