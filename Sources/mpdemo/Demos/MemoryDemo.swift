public import ArgumentParser
import Multiprocessing

/// The global list of the "Initial Memory Setup" slide. Each process has its own.
nonisolated(unsafe) var result: [Int] = []

/// The slide's `square_list`: appends squares to the global list and prints it, in the child.
struct SquareListTask: ParallelTask {
    var numbers: [Int]
    var quiet: Bool

    func run() -> [Int] {
        for number in numbers { result.append(number * number) }
        if !quiet { printLine("Result(in process p1): \(result)") }
        return result
    }
}

/// "Initial Memory Setup for Python Multiprocessing": a child's changes to a global stay in the child.
struct MemoryDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "A child appends squares to a global array; the parent's array stays empty."
    )

    @Option(
        help:
            "spawn (a fresh copy of the program), forkServer (a copy of a fresh helper) or fork (a copy of this process)."
    )
    var startMethod: StartMethod = .spawn

    @OptionGroup var common: CommonOptions

    func run() throws {
        let numbers = [1, 2, 3, 4]
        let quiet = common.json
        let child: ChildProcess<[Int]>
        switch startMethod {
        case .spawn, .forkServer:
            child = ChildProcess(
                running: SquareListTask(numbers: numbers, quiet: quiet),
                name: "p1",
                startMethod: startMethod
            )
        case .fork:
            child = ChildProcess(name: "p1", forking: { SquareListTask(numbers: numbers, quiet: quiet).run() })
        }
        try child.start()
        let childList = try child.value()
        if !quiet { print("Result(in main program): \(result)") }

        var figures = JSONObject()
        figures["demo"] = "memory"
        figures["language"] = "swift"
        figures["start_method"] = startMethod.rawValue
        figures["child"] = childList
        figures["parent"] = result
        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python).run("memory.py", [])
            figures["python"] = python.asJSONObject
            if !quiet {
                print(
                    "\nCPython (Benchmarks/python/memory.py): child \(python["child"] ?? "?"), parent \(python["parent"] ?? "?")"
                )
                print("Both keep the child's global to the child: processes do not share memory by default.")
            }
        }
        if quiet { print(figures.text) }
    }
}

extension StartMethod: ExpressibleByArgument {}
