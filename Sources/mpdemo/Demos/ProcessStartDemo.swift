import ArgumentParser
import Foundation
import Multiprocessing

/// Process start + join cost for each start method, against Python's fork, spawn and forkserver.
struct ProcessStartDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process-start",
        abstract: "Milliseconds to start and join a process that does nothing, per start method."
    )

    @Option(help: "Processes started and joined one after another per method.")
    var count = 20

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be 1...10000") }
    }

    func run() throws {
        let (spawn, forkServer, fork) = try ProcessStartMeasurement(count: count).run()
        var figures = JSONObject()
        figures["demo"] = "process-start"
        figures["language"] = "swift"
        figures["count"] = count
        var perMethod = JSONObject()
        perMethod["spawn"] = spawn
        perMethod["forkServer"] = forkServer
        perMethod["fork"] = fork
        figures["ms_per_process"] = perMethod
        if !common.json {
            print(String(format: "spawn (re-exec, worker entry before main): %.2f ms per process", spawn))
            print(String(format: "forkServer (forked by a fresh helper):     %.2f ms per process", forkServer))
            print(String(format: "fork:                                      %.2f ms per process", fork))
        }
        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python).run("process_start.py", ["--count", "\(count)"])
            figures["python"] = python.asJSONObject
            let methods = python["ms_per_process"] as? [String: Any] ?? [:]
            if !common.json {
                print("\nSide by side with CPython (Benchmarks/python/process_start.py):")
                printComparison([
                    ComparisonRow(
                        label: "spawn vs Python spawn",
                        unit: "ms",
                        swift: spawn,
                        other: methods["spawn"] as? Double,
                        better: .lower
                    ),
                    ComparisonRow(
                        label: "forkServer vs Python forkserver",
                        unit: "ms",
                        swift: forkServer,
                        other: methods["forkserver"] as? Double,
                        better: .lower
                    ),
                    ComparisonRow(
                        label: "forkServer vs Python fork",
                        unit: "ms",
                        swift: forkServer,
                        other: methods["fork"] as? Double,
                        better: .lower
                    ),
                    ComparisonRow(
                        label: "fork vs Python fork",
                        unit: "ms",
                        swift: fork,
                        other: methods["fork"] as? Double,
                        better: .lower
                    ),
                ])
            }
        }
        if common.json { print(figures.text) }
    }
}

/// Start + join cost per start method, shared by `mpdemo process-start` and `mpdemo bench`.
struct ProcessStartMeasurement {
    var count: Int

    func run() throws -> (spawn: Double, forkServer: Double, fork: Double) {
        (
            try millisecondsPerProcess { ChildProcess(running: EmptyTask()) },
            try millisecondsPerProcess { ChildProcess(running: EmptyTask(), startMethod: .forkServer) },
            try millisecondsPerProcess { ChildProcess(forking: { () -> Void in }) }
        )
    }

    private func millisecondsPerProcess<Output>(_ make: () -> ChildProcess<Output>) throws -> Double {
        let warmUp = make()
        try warmUp.start()
        try warmUp.join()
        let seconds = try measure {
            for _ in 0..<count {
                let child = make()
                try child.start()
                guard try child.join() == .exited(0) else { throw ValidationError("a child failed") }
            }
        }
        return seconds / Double(count) * 1000
    }
}
