import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// One of the two processes of a manager row: connects (before the clock), says so, waits for
/// the go, then appends to the list or sets and gets its own keys in the dictionary.
struct ManagerBenchTask: ParallelTask {
    var list: ManagedList<Int>?
    var dictionary: ManagedDictionary<String, Int>?
    var count: Int
    var go: ProcessEvent
    var ready: Connection

    func run() throws -> NoOutput {
        if let list { _ = try list.count() }
        if let dictionary { _ = try dictionary.count() }
        try ready.send(1)
        guard go.wait(timeout: .seconds(60)) else { throw ManagerBenchTimeout() }
        if let list { for value in 0..<count { try list.append(value) } }
        if let dictionary {
            let tag = "\(getpid())-"
            for value in 0..<count { try dictionary.updateValue(value, forKey: "\(tag)\(value)") }
            for value in 0..<count where try dictionary.value(forKey: "\(tag)\(value)") != value {
                throw ManagerBenchTimeout()
            }
        }
        return NoOutput()
    }
}

struct ManagerBenchTimeout: Error {}

/// The manager rows of `mpdemo bench`, against `manager_bench.py`: operations per second from two
/// processes at once, timed from their release to their end.
enum ManagerMeasurements {
    static func measure(count: Int) throws -> (listAppends: Double, dictionarySetGet: Double) {
        let manager = try Manager()
        defer { manager.shutdown() }
        let list = try manager.list(of: Int.self)
        let appendSeconds = try timed { go, ready in
            ManagerBenchTask(list: list, dictionary: nil, count: count, go: go, ready: ready)
        }
        let appended = try list.count()
        precondition(appended == 2 * count)
        let dictionary = try manager.dictionary(of: [String: Int].self)
        let dictionarySeconds = try timed { go, ready in
            ManagerBenchTask(list: nil, dictionary: dictionary, count: count, go: go, ready: ready)
        }
        return (Double(2 * count) / appendSeconds, Double(4 * count) / dictionarySeconds)
    }

    private static func timed(_ make: (ProcessEvent, Connection) -> ManagerBenchTask) throws -> Double {
        let go = try ProcessEvent()
        let (ready, readyForChildren) = try Connection.pipe()
        let children = (0..<2).map { _ in ChildProcess(running: make(go, readyForChildren)) }
        for child in children { try child.start() }
        readyForChildren.close()
        for _ in children { _ = try ready.receive(Int.self) }
        let clock = ContinuousClock()
        let start = clock.now
        go.set()
        for child in children { _ = try child.value() }
        return (clock.now - start) / .seconds(1)
    }
}
