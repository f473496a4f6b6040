public import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// Appends each value to a managed list.
public struct AppendToManagedListTask: ParallelTask {
    public var list: ManagedList<Int>
    public var values: [Int]
    public init(list: ManagedList<Int>, values: [Int]) {
        self.list = list
        self.values = values
    }
    public func run() throws -> NoOutput {
        for value in values { try list.append(value) }
        return NoOutput()
    }
}

/// A user-defined object hosted by a manager: adds, reads, or fails on request.
public struct CounterObject: ManagedObject {
    public enum Request: Codable, Sendable {
        case add(Int)
        case read
        case fail
    }
    public struct Refused: Error, CustomStringConvertible {
        public var description: String { "the counter refuses" }
    }
    var total = 0
    public init() {}
    public mutating func handle(_ request: Request) throws -> Int {
        switch request {
        case .add(let amount): total += amount
        case .read: break
        case .fail: throw Refused()
        }
        return total
    }
}

/// Adds 1 to a hosted counter `times` times.
public struct CallCounterTask: ParallelTask {
    public var counter: ManagedObjectProxy<CounterObject>
    public var times: Int
    public init(counter: ManagedObjectProxy<CounterObject>, times: Int) {
        self.counter = counter
        self.times = times
    }
    public func run() throws -> NoOutput {
        for _ in 0..<times { try counter.call(.add(1)) }
        return NoOutput()
    }
}

/// Says it is about to wait, then takes one element from a managed queue.
public struct TakeFromManagedQueueTask: ParallelTask {
    public var queue: ManagedQueue<String>
    public var ready: Connection
    public init(queue: ManagedQueue<String>, ready: Connection) {
        self.queue = queue
        self.ready = ready
    }
    public func run() throws -> String {
        try ready.send(1)
        return try queue.get(timeout: .seconds(30))
    }
}

/// Adds 1 to a managed value `times` times, a read and a write each, under a managed lock.
public struct LockedManagedIncrementTask: ParallelTask {
    public var lock: ManagedLock
    public var value: ManagedValue<Int>
    public var times: Int
    public init(lock: ManagedLock, value: ManagedValue<Int>, times: Int) {
        self.lock = lock
        self.value = value
        self.times = times
    }
    public func run() throws -> NoOutput {
        for _ in 0..<times {
            try lock.withLock { try value.store(try value.load() + 1) }
        }
        return NoOutput()
    }
}

/// Takes a managed lock, says so, and waits to be killed.
public struct HoldManagedLockTask: ParallelTask {
    public var lock: ManagedLock
    public var ready: Connection
    public init(lock: ManagedLock, ready: Connection) {
        self.lock = lock
        self.ready = ready
    }
    public func run() throws -> NoOutput {
        try lock.lock()
        try ready.send(1)
        while true { pause() }
    }
}

/// Says it waits, then waits for a managed event; returns whether it was set in time.
public struct WaitManagedEventTask: ParallelTask {
    public var event: ManagedEvent
    public var ready: Connection
    public init(event: ManagedEvent, ready: Connection) {
        self.event = event
        self.ready = ready
    }
    public func run() throws -> Bool {
        try ready.send(1)
        return try event.wait(timeout: .seconds(30))
    }
}
