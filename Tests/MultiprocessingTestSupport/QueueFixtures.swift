public import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

// Task types for the queue tests.

/// An element that says who put it and in what order (goes through the codec).
public struct Tagged: Codable, Hashable, Sendable {
    public var producer: Int
    public var sequence: Int
    public init(producer: Int, sequence: Int) {
        self.producer = producer
        self.sequence = sequence
    }
}

/// Puts `count` tagged elements; with `dieAfter`, kills itself after that many.
public struct ProduceTask: ParallelTask {
    public var queue: ProcessQueue<Tagged>
    public var producer: Int
    public var count: Int
    public var dieAfter: Int?
    public init(queue: ProcessQueue<Tagged>, producer: Int, count: Int, dieAfter: Int? = nil) {
        self.queue = queue
        self.producer = producer
        self.count = count
        self.dieAfter = dieAfter
    }
    public func run() throws -> NoOutput {
        for sequence in 0..<count {
            if sequence == dieAfter { raise(SIGKILL) }
            try queue.put(Tagged(producer: producer, sequence: sequence))
        }
        return NoOutput()
    }
}

/// Gets until the queue is closed and empty; returns what it got, in order.
public struct ConsumeTask: ParallelTask {
    public var queue: ProcessQueue<Tagged>
    public init(queue: ProcessQueue<Tagged>) { self.queue = queue }
    public func run() throws -> [Tagged] {
        var got: [Tagged] = []
        while true {
            do { got.append(try queue.get()) } catch let error as QueueError where error.code == .closed { return got }
        }
    }
}

/// Blocks in `get` on an empty queue; true when it was woken by the queue's close.
public struct AwaitCloseTask: ParallelTask {
    public var queue: ProcessQueue<Int>
    public var started: ProcessEvent
    public init(queue: ProcessQueue<Int>, started: ProcessEvent) {
        self.queue = queue
        self.started = started
    }
    public func run() throws -> Bool {
        started.set()
        do {
            _ = try queue.get()
            return false
        } catch let error as QueueError {
            return error.code == .closed
        }
    }
}

/// Puts byte arrays of the given sizes, each filled with its index.
public struct PutBlobsTask: ParallelTask {
    public var queue: ProcessQueue<[UInt8]>
    public var sizes: [Int]
    public init(queue: ProcessQueue<[UInt8]>, sizes: [Int]) {
        self.queue = queue
        self.sizes = sizes
    }
    public func run() throws -> NoOutput {
        for (index, size) in sizes.enumerated() { try queue.put([UInt8](repeating: UInt8(index), count: size)) }
        return NoOutput()
    }
}

/// Gets `count` elements from a joinable queue, marking each done; returns their sum.
public struct WorkThroughTask: ParallelTask {
    public var queue: JoinableProcessQueue<Int>
    public var count: Int
    public init(queue: JoinableProcessQueue<Int>, count: Int) {
        self.queue = queue
        self.count = count
    }
    public func run() throws -> Int {
        var sum = 0
        for _ in 0..<count {
            sum += try queue.get()
            try queue.taskDone()
        }
        return sum
    }
}

/// An element whose decoding fails for the value 13, as a mismatched peer's bytes would.
public struct Picky: Codable, Equatable, Sendable {
    public var value: Int
    public init(value: Int) { self.value = value }
    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Int.self)
        if value == 13 {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "13 is refused"))
        }
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Puts 0..<count, then closes the queue if asked.
public struct PutNumbersTask: ParallelTask {
    public var queue: ProcessQueue<Int>
    public var count: Int
    public var closeAfter: Bool
    public init(queue: ProcessQueue<Int>, count: Int, closeAfter: Bool) {
        self.queue = queue
        self.count = count
        self.closeAfter = closeAfter
    }
    public func run() throws -> NoOutput {
        for number in 0..<count { try queue.put(number) }
        if closeAfter { queue.close() }
        return NoOutput()
    }
}

/// Gets `count` numbers, one at a time, and returns them.
public struct GetNumbersTask: ParallelTask {
    public var queue: ProcessQueue<Int>
    public var count: Int
    public init(queue: ProcessQueue<Int>, count: Int) {
        self.queue = queue
        self.count = count
    }
    public func run() throws -> [Int] {
        try (0..<count).map { _ in try queue.get() }
    }
}
