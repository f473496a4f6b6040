#if MPI
import Multiprocessing
import MultiprocessingTestSupport
import Testing

@testable import MultiprocessingMPI

/// What a worker rank answers to task messages that are not what the root sends: always a report
/// that decodes and says what was wrong, never a crash. No MPI needed: the decoding is local.
@Suite("MPI pool worker, hostile task messages")
struct MPIPoolWorkerTests {
    private func report(_ message: [UInt8]) throws -> Result<Int, any Error> {
        var types: [String: any ParallelTask.Type] = [:]
        let bytes = MPIPoolWorker.run(message, taskTypes: &types)
        return try BinaryDecoder().decode(TaskReport<Int>.self, from: bytes).result(pid: nil)
    }

    private func failureCode(_ message: [UInt8]) throws -> ProcessError.Code? {
        guard case .failure(let error) = try report(message) else { return nil }
        return (error as? ProcessError)?.code
    }

    @Test func aGenuineMessageRuns() throws {
        #expect(try report(try MPIPoolProtocol.taskMessage(FibonacciTask(n: 20))).get() == fibonacci(20))
    }

    @Test func malformedMessagesAreReported() throws {
        #expect(try failureCode([]) == .taskDecodingFailed)
        #expect(try failureCode([1, 2]) == .taskDecodingFailed)
        // A name length far past the end of the message.
        #expect(try failureCode([0xFF, 0xFF, 0xFF, 0xFF, 65, 66]) == .taskDecodingFailed)
        // A name that is no type, and a name of a type that is not a task.
        #expect(try failureCode([3, 0, 0, 0] + Array("Zzz".utf8)) == .unknownTaskType)
        let notATask = Array(_mangledTypeName(Int.self)!.utf8)
        #expect(
            try failureCode(withUnsafeBytes(of: UInt32(notATask.count).littleEndian, Array.init) + notATask)
                == .unknownTaskType
        )
        // The right name with garbage where the task should be.
        var message = try MPIPoolProtocol.taskMessage(FibonacciTask(n: 20))
        message.removeLast(4)
        message += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        #expect(try failureCode(message) == .taskDecodingFailed)
    }

    @Test func randomBytesNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        // A task that does nothing with its input: any value a flipped byte makes is harmless to run.
        let genuine = try MPIPoolProtocol.taskMessage(EchoTask(value: 5, label: "five"))
        for round in 0..<2_000 {
            var message =
                round.isMultiple(of: 2)
                ? genuine
                : (0..<Int.random(in: 0..<64, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            if round.isMultiple(of: 2), !message.isEmpty {
                message[Int.random(in: 0..<message.count, using: &generator)] ^= UInt8.random(
                    in: 1...255,
                    using: &generator
                )
            }
            _ = try report(message)
        }
    }
}

struct EchoTask: ParallelTask {
    var value: Int
    var label: String
    func run() -> Int { value }
}
#endif
