import ArgumentParser
import Foundation

/// `mpdemo bench`: every comparison against CPython in one run, alternating the two sides.
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run every benchmark in Swift and in CPython, alternating, and report medians and ratios."
    )

    @Flag(help: "Smaller sizes: the whole run takes under two minutes on two cores.")
    var quick = false

    @Option(
        parsing: .upToNextOption,
        help:
            ArgumentHelp(
                "Only these groups (speed-test, process-start, pipe, shared-memory, queue, queue-traffic, pool, manager; "
                    + "with the MPI trait mpi-vs-c, mpi-vs-mpi4py, mpi-pool) or metric ids."
            )
    )
    var only: [String] = []

    @Option(help: "Write every figure, the machine and the date as JSON to this file.")
    var json: String?

    @Option(help: "Write an SVG bar chart to this file.")
    var chart: String?

    @Option(help: "Repetitions of each benchmark on each side (default 3 with --quick, 5 otherwise).")
    var `repeat`: Int?

    @Option(help: "The Python interpreter.")
    var python = "python3"

    func validate() throws {
        if let repetitions = `repeat`, !(1...100).contains(repetitions) {
            throw ValidationError("--repeat must be 1...100")
        }
        let known = Set(BenchmarkSuite.groups(.quick).flatMap { [$0.name] + $0.metrics.map(\.id) })
        for name in only where !known.contains(name) {
            throw ValidationError("unknown benchmark '\(name)'; known: \(known.sorted().joined(separator: ", "))")
        }
    }

    func run() throws {
        let report = try measure()
        print(report.table)
        for note in report.notes { print("note: \(note)") }
        if let json {
            try (report.json.text + "\n").write(toFile: json, atomically: true, encoding: .utf8)
            print("wrote \(json)")
        }
        if let chart {
            try SVGChart(report: report).svg.write(toFile: chart, atomically: true, encoding: .utf8)
            print("wrote \(chart)")
        }
    }

    /// Runs the selected benchmarks and returns the report (no printing but progress).
    func measure(showProgress: Bool = true) throws -> BenchmarkReport {
        let repetitions = `repeat` ?? (quick ? 3 : 5)
        let sizes = quick ? BenchmarkSizes.quick : .full
        var notes: [String] = []
        let pythonVersion = Self.pythonVersion(python)
        if pythonVersion == nil {
            notes.append("\(python) is missing or older than 3.8: Swift figures only")
        }
        let groups = BenchmarkSuite.groups(sizes).compactMap { group -> BenchmarkGroup? in
            guard !only.isEmpty else { return group }
            if only.contains(group.name) { return group }
            var narrowed = group
            narrowed.metrics = group.metrics.filter { only.contains($0.id) }
            return narrowed.metrics.isEmpty ? nil : narrowed
        }
        var swiftSamples: [String: [Double]] = [:]
        var pythonSamples: [String: [Double]] = [:]
        let progress = ProgressDisplay(enabled: showProgress)
        let runner = PythonRunner(interpreter: python)
        let steps = repetitions * groups.count * (pythonVersion == nil ? 1 : 2)
        var step = 0
        for repetition in 1...repetitions {
            for group in groups {
                step += 1
                progress.update(
                    step: step,
                    of: steps,
                    "\(group.name) · Swift · repetition \(repetition)/\(repetitions)"
                )
                let swift = try group.runSwift()
                for metric in group.metrics {
                    swiftSamples[metric.id, default: []].append(swift[metric.swiftKey] ?? .nan)
                }
                guard pythonVersion != nil else { continue }
                step += 1
                progress.update(
                    step: step,
                    of: steps,
                    "\(group.name) · CPython · repetition \(repetition)/\(repetitions)"
                )
                do {
                    let figures =
                        try group.runPeer?(python) ?? runner.run(group.pythonScript, group.pythonArguments)
                    for metric in group.metrics {
                        guard let path = metric.pythonPath, let value = Self.number(at: path, in: figures) else {
                            continue
                        }
                        pythonSamples[metric.id, default: []].append(value)
                    }
                } catch {
                    notes.append("\(group.pythonScript) failed in repetition \(repetition): \(error)")
                }
            }
        }
        progress.finish()
        let results = groups.flatMap(\.metrics).map { metric in
            MetricResult(
                metric: metric,
                swift: SampleSummary(swiftSamples[metric.id] ?? []),
                python: SampleSummary(pythonSamples[metric.id] ?? [])
            )
        }
        return BenchmarkReport(
            date: Date(),
            machine: .current(python: pythonVersion),
            repetitions: repetitions,
            quick: quick,
            results: results,
            notes: notes
        )
    }

    /// The number at `path` in a decoded JSON object.
    static func number(at path: [String], in object: [String: Any]) -> Double? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return (current as? NSNumber)?.doubleValue ?? (current as? Double)
    }

    /// `"3.11.7"` for a usable interpreter (3.8 or newer), else `nil`.
    static func pythonVersion(_ interpreter: String) -> String? {
        guard
            let output = try? PythonRunner.capture(
                [interpreter, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                discardingErrors: true
            )
        else { return nil }
        let version = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, parts[0] > 3 || (parts[0] == 3 && parts[1] >= 8) else { return nil }
        return version
    }
}
