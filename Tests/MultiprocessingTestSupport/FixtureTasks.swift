public import Multiprocessing
import SystemPackage

// Task types the integration tests send to spawned children. They live at file scope in a module
// the test runner links, so a child (the same runner, re-executed) finds them by name.
#if canImport(Glibc)
import Glibc
#endif

public func fibonacci(_ n: Int) -> Int {
    // The deck's definition: fib(1) = 0, fib(2) = 1.
    n <= 1 ? 0 : n == 2 ? 1 : fibonacci(n - 1) + fibonacci(n - 2)
}

public struct FibonacciTask: ParallelTask {
    public var n: Int
    public init(n: Int) { self.n = n }
    public func run() -> Int { fibonacci(n) }
}

public struct AsyncSumTask: ParallelTask {
    public var values: [Int]
    public init(values: [Int]) { self.values = values }
    public func run() async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for value in values { group.addTask { value } }
            return await group.reduce(0, +)
        }
    }
}

public struct ExitTask: ParallelTask {
    public var code: Int32
    public init(code: Int32) { self.code = code }
    public func run() -> NoOutput { exit(code) }
}

/// Dies the way real code does: SIGSEGV by a bad write, SIGABRT by abort(), others by raise.
/// (Swift's crash backtracer catches a *raised* SIGSEGV and returns, so raise would not crash.)
public struct RaiseSignalTask: ParallelTask {
    public var signal: Int32
    public init(signal: Int32) { self.signal = signal }
    public func run() -> NoOutput {
        switch signal {
        case SIGSEGV: UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1
        case SIGABRT: abort()
        default: raise(signal)
        }
        return NoOutput()
    }
}

/// Blocks until a signal ends the process. Reports its pid first, so a test knows it is running.
public struct WaitForSignalTask: ParallelTask {
    public var ready: Connection
    public init(ready: Connection) { self.ready = ready }
    public func run() throws -> NoOutput {
        try ready.send(getpid())
        while true { pause() }
    }
}

public struct FixtureError: Error, Codable, Hashable {
    public var message: String
    public var number: Int
    public init(message: String, number: Int) {
        self.message = message
        self.number = number
    }
}

public struct OpaqueFixtureError: Error, CustomStringConvertible {
    public var description: String { "opaque failure" }
}

public struct ThrowingTask: ParallelTask {
    public var codable: Bool
    public init(codable: Bool) { self.codable = codable }
    public func run() throws -> Int {
        if codable { throw FixtureError(message: "thrown in the child", number: 42) }
        throw OpaqueFixtureError()
    }
}

/// Encodes fine in the parent, refuses to decode anywhere but the parent.
public struct UndecodableInChildTask: ParallelTask {
    public init() {}
    public init(from decoder: any Decoder) throws {
        if WorkerContext.currentProcessName != "MainProcess" {
            throw FixtureError(message: "refusing to decode in a worker", number: 0)
        }
    }
    public func encode(to encoder: any Encoder) throws {}
    public func run() -> NoOutput { NoOutput() }
}

public struct EchoTask: ParallelTask {
    public var connection: Connection
    public init(connection: Connection) { self.connection = connection }
    public func run() throws -> Int {
        var count = 0
        while true {
            let value: Int
            do { value = try connection.receive(Int.self) } catch let error as ConnectionError
                where error.code == .endOfStream
            {
                return count
            }
            try connection.send(value)
            count += 1
        }
    }
}

/// Sends `byteCount` bytes of a known pattern as one [UInt8] value.
public struct LargePayloadTask: ParallelTask {
    public var connection: Connection
    public var byteCount: Int
    public init(connection: Connection, byteCount: Int) {
        self.connection = connection
        self.byteCount = byteCount
    }
    public func run() throws -> NoOutput {
        try connection.send(Self.pattern(byteCount))
        return NoOutput()
    }
    /// A pattern that differs in every 8-byte word, built a word at a time (fast even in debug builds).
    public static func pattern(_ count: Int) -> [UInt8] {
        precondition(count % 8 == 0)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let words = UnsafeMutableRawBufferPointer(buffer).bindMemory(to: UInt64.self)
            for index in words.indices { words[index] = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 }
            initialized = count
        }
    }

    /// Whether `bytes` is `pattern(bytes.count)`, compared with memcmp.
    public static func matchesPattern(_ bytes: [UInt8]) -> Bool {
        let expected = pattern(bytes.count)
        return bytes.withUnsafeBytes { a in
            expected.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
    }
}

/// Writes the start of a frame announcing `announced` bytes, then dies by SIGKILL mid-message.
public struct DieMidFrameTask: ParallelTask {
    public var connection: Connection
    public init(connection: Connection) { self.connection = connection }
    public func run() -> NoOutput {
        var frame: [UInt8] = [0x00, 0x10, 0x00, 0x00]  // announces 4096 bytes
        frame += [UInt8](repeating: 7, count: 100)
        _ = frame.withUnsafeBytes { write(connection.descriptor!.rawValue, $0.baseAddress, $0.count) }
        raise(SIGKILL)
        return NoOutput()
    }
}

/// Reads a descriptor sent with `send(descriptors:)` and returns what it reads from it.
public struct ReadPassedDescriptorTask: ParallelTask {
    public var connection: Connection
    public init(connection: Connection) { self.connection = connection }
    public func run() throws -> String {
        let descriptors = try connection.receiveDescriptors()
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { read(descriptors[0].rawValue, $0.baseAddress, $0.count) }
        for descriptor in descriptors { close(descriptor.rawValue) }
        return String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self)
    }
}

/// Starts a grandchild that waits for a signal, reports the grandchild's pid, then waits itself.
public struct StartGrandchildTask: ParallelTask {
    public var report: Connection
    public var startMethod: StartMethod
    public init(report: Connection, startMethod: StartMethod = .spawn) {
        self.report = report
        self.startMethod = startMethod
    }
    public func run() throws -> NoOutput {
        let (ready, readyForChild) = try Connection.pipe()
        let grandchild = ChildProcess(running: WaitForSignalTask(ready: readyForChild), startMethod: startMethod)
        try grandchild.start()
        readyForChild.close()
        let pid = try ready.receive(Int32.self)
        try report.send(pid)
        while true { pause() }
    }
}

/// The deck's "initial memory" experiment: appends to a global in the child.
nonisolated(unsafe) public var fixtureGlobalList: [Int] = []

public struct AppendSquaresTask: ParallelTask {
    public var numbers: [Int]
    public init(numbers: [Int]) { self.numbers = numbers }
    public func run() -> [Int] {
        for number in numbers { fixtureGlobalList.append(number * number) }
        return fixtureGlobalList
    }
}
