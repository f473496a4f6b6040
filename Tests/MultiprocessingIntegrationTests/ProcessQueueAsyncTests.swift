import Multiprocessing
import MultiprocessingTestSupport
import Testing

@Suite("Awaiting queues", .timeLimit(.minutes(1)))
struct ProcessQueueAsyncTests {
    @Test("100 awaiting getters each get one of the 100 numbers a child puts")
    func manyAwaitingGetters() async throws {
        let queue = try ProcessQueue<Int>()
        let producer = ChildProcess(running: PutNumbersTask(queue: queue, count: 100, closeAfter: false))
        let received = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await queue.get() } }
            try producer.start()
            var all: [Int] = []
            for try await number in group { all.append(number) }
            return all
        }
        #expect(received.sorted() == Array(0..<100))
        try await producer.join()
    }

    @Test("for try await over a queue ends when the producer closes it")
    func asyncSequence() async throws {
        let queue = try ProcessQueue<Int>(bufferByteCount: 4096)
        let producer = ChildProcess(running: PutNumbersTask(queue: queue, count: 5000, closeAfter: true))
        try producer.start()
        var sum = 0
        var count = 0
        for try await number in queue.elements {
            sum += number
            count += 1
        }
        #expect(count == 5000)
        #expect(sum == (0..<5000).reduce(0, +))
        try await producer.join()
    }

    @Test("a cancelled awaiting get takes nothing")
    func cancelledGet() async throws {
        let queue = try ProcessQueue<Int>()
        let waiter = Task { try await queue.get() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(try queue.tryPut(7))
        #expect(try queue.tryGet() == 7)
    }

    @Test("an awaited put on a full queue resumes when a child takes an element")
    func awaitedPutWaitsForRoom() async throws {
        let queue = try ProcessQueue<Int>(capacity: 1)
        try await queue.put(1)
        let consumer = ChildProcess(running: GetNumbersTask(queue: queue, count: 2))
        let second = Task { try await queue.put(2) }
        try consumer.start()
        try await second.value
        #expect(try await consumer.value() == [1, 2])
    }
}
