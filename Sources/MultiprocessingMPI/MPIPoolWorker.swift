#if MPI
import CMPI
import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// A rank other than the root of an ``MPIPool``: runs the tasks the root sends, one at a time,
/// until it is told to stop.
enum MPIPoolWorker {
    static func serve(_ communicator: MPICommunicator, root: Int, initializer: (any ParallelTask)?) throws {
        var taskTypes: [String: any ParallelTask.Type] = [:]
        // What every task is answered with when the initializer threw.
        var initializerFailure: [UInt8]?
        if let initializer {
            if case .failure(let error) = blockingAwait({ _ = try await initializer.run() }) {
                initializerFailure = try? BinaryEncoder().encode(TaskReport<NoOutput>.thrown(ThrownError(error)))
            }
        }
        var backoff = MPIBackoff()
        while true {
            // Waiting politely: MPI's blocking probe would spin a core for as long as the root is idle.
            guard let matched = try communicator.probeNow(from: root, tag: nil) else {
                backoff.pause()
                continue
            }
            backoff.reset()
            let message = try communicator.receiveMatchedBytes(matched)
            let tag = Int(matched.status.MPI_TAG)
            if tag == MPIPoolProtocol.stopTag { return }
            let report = initializerFailure ?? run(message, taskTypes: &taskTypes)
            try communicator.sendBytes(report, to: root, tag: tag)
        }
    }

    /// The encoded report of one task message: its output, its error, or why it could not run.
    static func run(_ message: [UInt8], taskTypes: inout [String: any ParallelTask.Type]) -> [UInt8] {
        guard let (typeName, taskBytes) = MPIPoolProtocol.parseTaskMessage(message) else {
            return setupFailure(.taskDecodingFailed, "the worker rank received a malformed task message")
        }
        if taskTypes[typeName] == nil, let found = typeByPrintableName(typeName) as? any ParallelTask.Type {
            taskTypes[typeName] = found
        }
        guard let taskType = taskTypes[typeName] else {
            return setupFailure(.unknownTaskType, "the worker rank found no ParallelTask type named '\(typeName)'")
        }
        return run(taskType, Array(taskBytes))
    }

    private static func run<Task: ParallelTask>(_ type: Task.Type, _ bytes: [UInt8]) -> [UInt8] {
        let task: Task
        do { task = try BinaryDecoder().decode(Task.self, from: bytes) } catch {
            return setupFailure(
                .taskDecodingFailed,
                "the worker rank could not decode a \(String(reflecting: Task.self)): \(error)"
            )
        }
        let report: TaskReport<Task.Output>
        switch blockingAwait({ try await task.run() }) {
        case .success(let output): report = .output(output)
        case .failure(let error): report = .thrown(ThrownError(error))
        }
        do { return try BinaryEncoder().encode(report) } catch {
            return setupFailure(
                .outputEncodingFailed,
                "the output of type \(Task.Output.self) could not be encoded: \(error)"
            )
        }
    }

    private static func setupFailure(_ code: ProcessError.Code, _ message: String) -> [UInt8] {
        // A report of two small fields always encodes.
        (try? BinaryEncoder().encode(TaskReport<NoOutput>.setupFailed(code: code.storage, message: message))) ?? []
    }
}

/// Spin a little, then nap with doubling lengths up to 1 ms: how this module waits on MPI, which
/// has no descriptor to sleep on.
struct MPIBackoff {
    private var idleRounds = 0

    mutating func reset() { idleRounds = 0 }

    mutating func pause() {
        idleRounds += 1
        if idleRounds < 200 {
            sched_yield()
            return
        }
        var nap = timespec(tv_sec: 0, tv_nsec: min(1_000_000, 1_000 << min(idleRounds - 200, 10)))
        nanosleep(&nap, nil)
    }
}
#endif
