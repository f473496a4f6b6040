import ArgumentParser
import Foundation
import Multiprocessing

/// The slide's `reader_proc`: gets until the queue is closed (Swift's `'DONE'`), one at a time or
/// in batches; returns how many numbers it got.
struct QueueReaderTask: ParallelTask {
    var queue: ProcessQueue<Int>
    var batched: Bool

    func run() throws -> Int {
        var received = 0
        do {
            while true {
                if batched {
                    received += try queue.get(maximumCount: 4096).count
                } else {
                    _ = try queue.get()
                    received += 1
                }
            }
        } catch let error as QueueError where error.code == .closed {
            return received
        }
    }
}

/// The Pipe comparison: receives until the writer closes its end.
struct PipeReaderTask: ParallelTask {
    var connection: Connection

    func run() throws -> Int {
        var received = 0
        do {
            while true {
                _ = try connection.receive(Int.self)
                received += 1
            }
        } catch let error as ConnectionError where error.code == .endOfStream {
            return received
        }
    }
}

/// How a demo run moves the numbers.
enum QueueKind: String, ExpressibleByArgument, CaseIterable {
    /// `put` and `get` one number at a time, as the slide does.
    case queue
    /// Python's `SimpleQueue`; in Swift the same queue (it has no feeder thread to drop).
    case simple
    /// `put(contentsOf:)` and `get(maximumCount:)`.
    case batched
    /// A `Connection`, the slide's "Pipe (faster than Queue)".
    case pipe

    /// The Python original's kind to compare with.
    var pythonKind: String {
        switch self {
        case .queue, .batched: "queue"
        case .simple: "simple"
        case .pipe: "pipe"
        }
    }

    var displayName: String {
        switch self {
        case .queue: "ProcessQueue()"
        case .simple: "SimpleProcessQueue()"
        case .batched: "ProcessQueue() in batches"
        case .pipe: "Connection.pipe()"
        }
    }
}

/// One Demo #6 run: a reader process is started, then `count` numbers are written and the reader
/// joined; the time covers the writes and the join, as on the slide.
func measureQueueRun(kind: QueueKind, count: Int) throws -> Double {
    let clock = ContinuousClock()
    switch kind {
    case .pipe:
        let (readEnd, writeEnd) = try Connection.pipe()
        let reader = ChildProcess(running: PipeReaderTask(connection: readEnd), isDaemon: true)
        try reader.start()
        readEnd.close()
        let start = clock.now
        for number in 0..<count { try writeEnd.send(number) }
        writeEnd.close()
        let received = try reader.value()
        precondition(received == count, "the reader got \(received) of \(count)")
        return (clock.now - start) / .seconds(1)
    case .queue, .simple, .batched:
        let queue = try ProcessQueue<Int>()
        let reader = ChildProcess(running: QueueReaderTask(queue: queue, batched: kind == .batched), isDaemon: true)
        try reader.start()
        let start = clock.now
        if kind == .batched {
            try queue.put(contentsOf: 0..<count)
        } else {
            for number in 0..<count { try queue.put(number) }
        }
        queue.close()  // the slide's 'DONE'
        let received = try reader.value()
        precondition(received == count, "the reader got \(received) of \(count)")
        return (clock.now - start) / .seconds(1)
    }
}

/// Demo #6: numbers through a queue to a reader process, at 10^4, 10^5 and 10^6.
struct QueueDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Demo #6: send 10^4, 10^5, 10^6 numbers through a queue (or a pipe) to a reader process.",
        discussion: "The reader gets until the queue is closed, which is Swift's 'DONE'."
    )

    @Option(
        help: "Comma-separated message counts.",
        transform: { text in text.split(separator: ",").compactMap { Int($0) } }
    )
    var counts: [Int] = [10_000, 100_000, 1_000_000]

    @Option(help: "queue, simple, batched or pipe.")
    var kind: QueueKind = .queue

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--counts takes positive numbers, e.g. 10000,100000")
        }
    }

    func run() throws {
        let quiet = common.json
        var runs: [(count: Int, seconds: Double)] = []
        for count in counts {
            let seconds = try measureQueueRun(kind: kind, count: count)
            runs.append((count, seconds))
            if !quiet {
                print(
                    "Sending \(count) numbers to \(kind.displayName) took \(seconds) seconds "
                        + "(\(format(Double(count) / seconds)) messages/s)"
                )
            }
        }
        var figures = JSONObject()
        figures["demo"] = "queue"
        figures["language"] = "swift"
        figures["kind"] = kind.rawValue
        figures["runs"] = runs.map {
            ["count": $0.count, "seconds": $0.seconds, "messages_per_s": Double($0.count) / $0.seconds]
        }
        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python).run(
                "queue_demo.py",
                ["--counts", counts.map(String.init).joined(separator: ","), "--kind", kind.pythonKind]
            )
            figures["python"] = python.asJSONObject
            if !quiet {
                print("\nCPython (Benchmarks/python/queue_demo.py --kind \(kind.pythonKind)):")
                let pythonRuns = (python["runs"] as? [[String: Any]]) ?? []
                for (run, pythonRun) in zip(runs, pythonRuns) {
                    let pythonSeconds = (pythonRun["seconds"] as? Double) ?? .nan
                    print(
                        "Sending \(run.count) numbers took \(pythonSeconds) seconds: "
                            + "Swift is \(String(format: "%.1f", pythonSeconds / run.seconds))× faster"
                    )
                }
            }
        }
        if quiet { print(figures.text) }
    }
}

/// Echoes every number from `requests` to `replies` until `requests` is closed: the far side of
/// the queue round trip.
struct QueueEchoTask: ParallelTask {
    var requests: ProcessQueue<Int>
    var replies: ProcessQueue<Int>

    func run() throws -> NoOutput {
        do {
            while true { try replies.put(try requests.get()) }
        } catch let error as QueueError where error.code == .closed {
            return NoOutput()
        }
    }
}

/// Takes numbers until the queue is closed; returns how many (one of several consumers).
struct QueueCountTask: ParallelTask {
    var queue: ProcessQueue<Int>

    func run() throws -> Int {
        var received = 0
        do {
            while true {
                _ = try queue.get()
                received += 1
            }
        } catch let error as QueueError where error.code == .closed {
            return received
        }
    }
}

/// Puts `count` numbers (one of several producers) once `go` is set.
struct QueueFillTask: ParallelTask {
    var queue: ProcessQueue<Int>
    var count: Int
    var ready: ProcessSemaphore
    var go: ProcessEvent

    func run() throws -> NoOutput {
        try ready.release()
        go.wait()
        for number in 0..<count { try queue.put(number) }
        return NoOutput()
    }
}

/// The queue rows of `mpdemo bench` beyond Demo 6.
enum QueueMeasurements {
    /// Microseconds per round trip: a number through one queue to a child and back through another.
    static func roundTripMicroseconds(_ roundTrips: Int) throws -> Double {
        let requests = try ProcessQueue<Int>()
        let replies = try ProcessQueue<Int>()
        let echo = ChildProcess(running: QueueEchoTask(requests: requests, replies: replies), isDaemon: true)
        try echo.start()
        try requests.put(-1)  // the child is up once this comes back
        _ = try replies.get()
        let clock = ContinuousClock()
        let start = clock.now
        for number in 0..<roundTrips {
            try requests.put(number)
            let reply = try replies.get()
            precondition(reply == number, "the echo sent \(reply) for \(number)")
        }
        let seconds = (clock.now - start) / .seconds(1)
        requests.close()
        try echo.join()
        return seconds / Double(roundTrips) * 1e6
    }

    /// Messages per second with `producers` processes putting and `consumers` processes getting,
    /// from the moment every producer is ready (process start is not what is measured).
    static func manyToMany(producers: Int, consumers: Int, perProducer: Int) throws -> Double {
        let queue = try ProcessQueue<Int>()
        let ready = try ProcessSemaphore(value: 0)
        let go = try ProcessEvent()
        let readers = (0..<consumers).map { _ in ChildProcess(running: QueueCountTask(queue: queue), isDaemon: true) }
        let writers = (0..<producers).map { _ in
            ChildProcess(
                running: QueueFillTask(queue: queue, count: perProducer, ready: ready, go: go),
                isDaemon: true
            )
        }
        for reader in readers { try reader.start() }
        for writer in writers { try writer.start() }
        for _ in writers { ready.acquire() }
        let clock = ContinuousClock()
        let start = clock.now
        go.set()
        for writer in writers { try writer.join() }
        queue.close()
        var received = 0
        for reader in readers { received += try reader.value() }
        let seconds = (clock.now - start) / .seconds(1)
        precondition(received == producers * perProducer, "lost messages: \(received)")
        return Double(received) / seconds
    }
}
