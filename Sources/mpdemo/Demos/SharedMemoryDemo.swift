import ArgumentParser
import Multiprocessing

/// The slide's `square_list` over shared memory: fills `result` and `squareSum` in the child.
struct SharedSquareListTask: ParallelTask {
    var numbers: [Int32]
    var result: SharedArray<Int32>
    var squareSum: SharedValue<Int32>
    var quiet: Bool

    func run() -> NoOutput {
        for (index, number) in numbers.enumerated() { result[index] = number * number }
        squareSum.value = result.toArray().reduce(0, +)
        if !quiet {
            printLine("Result(in process p1): \(result.toArray())")
            printLine("Sum of squares(in process p1): \(squareSum.value)")
        }
        return NoOutput()
    }
}

/// "Multiprocessing Shared Memory": `Array('i', 4)` and `Value('i')` filled by a child, read by the parent.
struct SharedMemoryDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared-memory",
        abstract: "A child fills a shared array and value; the parent sees them (unlike `memory`)."
    )

    @Option(help: "spawn or forkServer (the array crosses as a descriptor), or fork (the child inherits the mapping).")
    var startMethod: StartMethod = .spawn

    @OptionGroup var common: CommonOptions

    func run() throws {
        let numbers: [Int32] = [1, 2, 3, 4]
        let quiet = common.json
        // Array('i', 4) and Value('i')
        let result = try SharedArray<Int32>(repeating: 0, count: 4)
        let squareSum = try SharedValue<Int32>(0)
        let task = SharedSquareListTask(numbers: numbers, result: result, squareSum: squareSum, quiet: quiet)
        let child: ChildProcess<NoOutput>
        switch startMethod {
        case .spawn, .forkServer: child = ChildProcess(running: task, name: "p1", startMethod: startMethod)
        case .fork: child = ChildProcess(name: "p1", forking: { task.run() })
        }
        try child.start()
        try child.join()
        if !quiet {
            print("Result(in main program): \(result.toArray())")
            print("Sum of squares(in main program): \(squareSum.value)")
        }

        var figures = JSONObject()
        figures["demo"] = "shared-memory"
        figures["language"] = "swift"
        figures["start_method"] = startMethod.rawValue
        figures["result"] = result.toArray().map(Int.init)
        figures["square_sum"] = Int(squareSum.value)
        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python).run("shared_memory.py", [])
            figures["python"] = python.asJSONObject
            if !quiet {
                print(
                    "\nCPython (Benchmarks/python/shared_memory.py): result \(python["result"] ?? "?"), "
                        + "square_sum \(python["square_sum"] ?? "?")"
                )
                print("Both share the array and the value: the parent sees what the child wrote.")
            }
        }
        if quiet { print(figures.text) }
    }
}
