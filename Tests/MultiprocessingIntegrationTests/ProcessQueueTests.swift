import Multiprocessing
import MultiprocessingTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Queues between processes", .timeLimit(.minutes(1)))
struct ProcessQueueTests {
    @Test("4 producers and 4 consumers in 8 processes: every element exactly once, each producer's in order")
    func manyToMany() throws {
        let queue = try ProcessQueue<Tagged>(bufferByteCount: 16 << 10)  // small: producers wait for room
        let perProducer = 3000
        let consumers = (0..<4).map { _ in ChildProcess(running: ConsumeTask(queue: queue)) }
        let producers = (0..<4).map {
            ChildProcess(running: ProduceTask(queue: queue, producer: $0, count: perProducer))
        }
        for consumer in consumers { try consumer.start() }
        for producer in producers { try producer.start() }
        for producer in producers { try producer.join() }
        queue.close()
        var all: [Tagged] = []
        for consumer in consumers {
            let got = try consumer.value()
            for producer in 0..<4 {
                let sequences = got.filter { $0.producer == producer }.map(\.sequence)
                #expect(sequences == sequences.sorted())
            }
            all += got
        }
        #expect(all.count == 4 * perProducer)
        #expect(Set(all).count == 4 * perProducer)
    }

    @Test("4 producer threads and 4 consumer threads in one process share a queue: every element once")
    func threads() throws {
        let queue = try ProcessQueue<Tagged>(bufferByteCount: 8 << 10)
        let consumers = (0..<4).map { _ in WorkerThread(running: ConsumeTask(queue: queue)) }
        let producers = (0..<4).map { WorkerThread(running: ProduceTask(queue: queue, producer: $0, count: 2000)) }
        for consumer in consumers { try consumer.start() }
        for producer in producers { try producer.start() }
        for producer in producers { try producer.join() }
        queue.close()
        var all: [Tagged] = []
        for consumer in consumers { all += try consumer.value() }
        #expect(all.count == 8000)
        #expect(Set(all).count == 8000)
    }

    @Test("timeouts, try forms and a bounded capacity")
    func timeoutsAndCapacity() throws {
        let queue = try ProcessQueue<Int>(capacity: 2)
        #expect(try queue.get(timeout: .milliseconds(20)) == nil)
        #expect(try queue.tryGet() == nil)
        #expect(try queue.tryPut(1))
        #expect(try queue.tryPut(2))
        #expect(queue.isFull)
        #expect(try queue.tryPut(3) == false)
        #expect(try queue.put(3, timeout: .milliseconds(20)) == false)
        #expect(queue.count == 2)
        #expect(try queue.get() == 1)
        #expect(try queue.put(3, timeout: .milliseconds(20)))
        #expect(try queue.get(maximumCount: 10) == [2, 3])
        #expect(queue.isEmpty)
        #expect(throws: SharedMemoryError.self) { try ProcessQueue<Int>(capacity: 0) }
    }

    @Test("close wakes a getter blocked in another process with a clear error; puts are refused")
    func closeWakesGetters() throws {
        let queue = try ProcessQueue<Int>()
        let started = try ProcessEvent()
        let child = ChildProcess(running: AwaitCloseTask(queue: queue, started: started))
        try child.start()
        started.wait()
        queue.close()
        #expect(try child.value() == true)
        #expect(throws: QueueError.self) { try queue.put(1) }
    }

    @Test("elements left by a closed queue are still delivered before the closed error")
    func closeDrains() throws {
        let queue = try ProcessQueue<Int>()
        try queue.put(contentsOf: [1, 2])
        queue.close()
        #expect(try queue.get() == 1)
        #expect(try queue.get() == 2)
        #expect(throws: QueueError.self) { try queue.get() }
    }

    @Test("a producer killed midway: what it put arrives, and nothing more is waited for")
    func killedProducer() throws {
        let queue = try ProcessQueue<Tagged>()
        let producer = ChildProcess(running: ProduceTask(queue: queue, producer: 0, count: 1000, dieAfter: 100))
        try producer.start()
        #expect(try producer.join() == .signaled(SIGKILL))
        for sequence in 0..<100 { #expect(try queue.get() == Tagged(producer: 0, sequence: sequence)) }
        #expect(try queue.tryGet() == nil)
    }

    @Test("a producer exits and is joined while the queue still holds everything it put")
    func producerExitsFirst() throws {
        let queue = try ProcessQueue<Tagged>()
        let producer = ChildProcess(running: ProduceTask(queue: queue, producer: 7, count: 5000))
        try producer.start()
        #expect(try producer.join() == .exited(0))
        #expect(queue.count == 5000)
        for sequence in 0..<5000 { #expect(try queue.get() == Tagged(producer: 7, sequence: sequence)) }
    }

    @Test("a consumer killed while it waits in get leaves the queue working for the others")
    func killedConsumer() throws {
        let queue = try ProcessQueue<Int>()
        let started = try ProcessEvent()
        let victim = ChildProcess(running: AwaitCloseTask(queue: queue, started: started))
        try victim.start()
        started.wait()
        try victim.kill()
        #expect(try victim.join() == .signaled(SIGKILL))
        try queue.put(contentsOf: 0..<1000)
        #expect(try queue.get(maximumCount: 2000) == Array(0..<1000))
    }

    @Test("an element that does not decode is an error on its own get; the queue goes on")
    func undecodableElement() throws {
        let queue = try ProcessQueue<Picky>()
        for value in [12, 13, 14] { try queue.put(Picky(value: value)) }
        #expect(try queue.get() == Picky(value: 12))
        #expect(throws: DecodingError.self) { try queue.get() }
        #expect(try queue.get() == Picky(value: 14))
        for value in [1, 13, 2] { try queue.put(Picky(value: value)) }
        #expect(try queue.get(maximumCount: 10) == [Picky(value: 1)])  // the batch stops before 13
        #expect(throws: DecodingError.self) { try queue.get(maximumCount: 10) }
        #expect(try queue.get(maximumCount: 10) == [Picky(value: 2)])
    }

    @Test("16 MiB elements interleaved with small ones cross from a child intact and in order")
    func largeElements() throws {
        let queue = try ProcessQueue<[UInt8]>(bufferByteCount: 64 << 10)
        let sizes = [10, 16 << 20, 20, 300_000, 16 << 20, 5]
        let producer = ChildProcess(running: PutBlobsTask(queue: queue, sizes: sizes))
        try producer.start()
        for (index, size) in sizes.enumerated() {
            let blob = try queue.get()
            #expect(blob.count == size)
            #expect(blob.allSatisfy { $0 == UInt8(index) })
        }
        try producer.join()
        #expect(try queue.tryGet() == nil)
    }

    @Test("a joinable queue: join returns once a child marked every element done; one taskDone too many throws")
    func joinable() throws {
        let queue = try JoinableProcessQueue<Int>()
        for value in 1...10 { try queue.put(value) }
        #expect(queue.unfinishedCount == 10)
        #expect(queue.join(timeout: .milliseconds(10)) == false)
        let worker = ChildProcess(running: WorkThroughTask(queue: queue, count: 10))
        try worker.start()
        #expect(queue.join())
        #expect(try worker.value() == 55)
        #expect(throws: QueueError.self) { try queue.taskDone() }
    }

    @Test("batched puts and gets keep the order")
    func batches() throws {
        let queue = try ProcessQueue<Int>(bufferByteCount: 64 << 10)
        try queue.put(contentsOf: 0..<5)
        var received: [Int] = []
        while received.count < 5 { received += try queue.get(maximumCount: 3) }
        #expect(received == Array(0..<5))
    }
}
