#if MPI
import Foundation
import MultiprocessingMPI
import Testing

/// Runs one scenario of ``MPIRankScenarios`` as an MPI job: this test runner itself, started by
/// `mpirun` on `ranks` ranks (or alone, as a singleton, when `ranks` is `nil`), filtered to that one
/// test, which every rank runs with the same expectations.
enum MPIJob {
    /// Set in a job's environment: the scenarios run only where it is.
    static let scenarioVariable = "MULTIPROCESSING_MPI_SCENARIO"

    static var isScenarioRun: Bool { ProcessInfo.processInfo.environment[scenarioVariable] != nil }

    struct Outcome {
        var status: Int32
        var output: String

        /// The ranks that reached the end of the scenario (each prints a marker line there).
        func passedRanks(_ scenario: String) -> Set<Int> {
            var ranks: Set<Int> = []
            for line in output.split(separator: "\n") where line.hasPrefix("MPI-SCENARIO-PASSED \(scenario) rank ") {
                if let rank = Int(line.split(separator: " ").last ?? "") { ranks.insert(rank) }
            }
            return ranks
        }
    }

    /// Runs `scenario` and returns its exit status and everything it printed; kills it after
    /// `limit` (a hung job is a failure, not a hung suite).
    static func run(_ scenario: String, ranks: Int?, limit: Duration = .seconds(120)) throws -> Outcome {
        let testArguments = [
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
            "--testing-library", "swift-testing", "--filter", "MPIRankScenarios/\(scenario)\\(",
        ]
        let process = Process()
        if let ranks {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["mpirun", "--oversubscribe", "-np", "\(ranks)"] + testArguments
        } else {
            process.executableURL = URL(fileURLWithPath: testArguments[0])
            process.arguments = Array(testArguments.dropFirst())
        }
        process.environment = environment()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let watchdog = DispatchWorkItem {
            if process.isRunning {
                process.interrupt()
                process.terminate()
            }
        }
        let seconds = Double(limit.components.seconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// This environment without Open MPI's own variables (a job started from inside another
    /// exits at once, silently), with the scenario switch, and allowed to run as root.
    private static func environment() -> [String: String] {
        var environment = mpirunEnvironment(ProcessInfo.processInfo.environment)
        environment[scenarioVariable] = "1"
        return environment
    }

    /// Runs `scenario` on `ranks` ranks and expects a clean exit with every rank at the end.
    static func expectPasses(_ scenario: String, ranks: Int?) throws {
        let outcome = try run(scenario, ranks: ranks)
        let expected = Set(0..<(ranks ?? 1))
        #expect(outcome.status == 0, "the job exited with \(outcome.status):\n\(outcome.output.suffix(6000))")
        #expect(
            outcome.passedRanks(scenario) == expected,
            "ranks at the end: \(outcome.passedRanks(scenario).sorted()), expected \(expected.sorted()):\n\(outcome.output.suffix(6000))"
        )
    }

    /// What a scenario prints as its last step on each rank.
    static func markPassed(_ scenario: String, rank: Int) {
        // One write, unbuffered: ranks share the pipe, and a rank may exit right after.
        let line = Array("MPI-SCENARIO-PASSED \(scenario) rank \(rank)\n".utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}

/// Each scenario as an MPI job of real processes.
@Suite("MPI jobs", .serialized, .enabled(if: !MPIJob.isScenarioRun))
struct MPIJobTests {
    @Test("values and arrays between 2 ranks, sync and async")
    func pointToPoint() throws { try MPIJob.expectPasses("pointToPoint", ranks: 2) }

    @Test("collectives on 2 ranks")
    func collectives() throws { try MPIJob.expectPasses("collectives", ranks: 2) }

    @Test("a thousand async receives on one rank, awaited at once")
    func thousandWaiters() throws { try MPIJob.expectPasses("thousandWaiters", ranks: 2) }

    @Test("MPIPool on 3 ranks: results in order, both workers used, errors, timeout, close")
    func pool() throws { try MPIJob.expectPasses("pool", ranks: 3) }

    @Test("MPIPool initializer on 3 ranks: run once per worker; one that throws fails each task with its error")
    func poolInitializer() throws { try MPIJob.expectPasses("poolInitializer", ranks: 3) }

    @Test("a worker rank killed mid-task ends the whole job, root included, instead of hanging it")
    func workerDies() throws {
        let outcome = try MPIJob.run("workerDies", ranks: 3, limit: .seconds(60))
        #expect(outcome.status != 0)
        #expect(
            outcome.output.contains("signal 9") || outcome.output.contains("Killed"),
            "\(outcome.output.suffix(3000))"
        )
        #expect(outcome.passedRanks("workerDies").isEmpty)
    }

    @Test("MPI_THREAD_SINGLE on request: blocking calls work, async forms are refused")
    func singleThreadLevel() throws { try MPIJob.expectPasses("singleThreadLevel", ranks: nil) }

    @Test("alone without mpirun: a job of size 1, and MPIPool runs on local processes")
    func singleton() throws { try MPIJob.expectPasses("singleton", ranks: nil) }
}
#endif
