public import Multiprocessing
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

// Task types for the foundation's regression tests: reports, descriptors, threads, contexts.

/// An output whose encoding fails in the child. With `optionalFields`, every field is optional, so
/// a parent that decoded some other frame as this output would get all-nil fields instead of an error.
public struct FragileOutput: Codable, Sendable, Equatable {
    public var first: Int?
    public var second: String?
    public var required: Int
    public var optionalFields: Bool

    public init(first: Int?, second: String?, required: Int, optionalFields: Bool) {
        self.first = first
        self.second = second
        self.required = required
        self.optionalFields = optionalFields
    }

    public func encode(to encoder: any Encoder) throws {
        if WorkerContext.isChildProcess {
            throw FixtureError(message: "this output refuses to encode in a child", number: 7)
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(first, forKey: .first)
        try container.encodeIfPresent(second, forKey: .second)
        try container.encode(required, forKey: .required)
        try container.encode(optionalFields, forKey: .optionalFields)
    }
}

public struct UnencodableOutputTask: ParallelTask {
    public var optionalFields: Bool
    public init(optionalFields: Bool) { self.optionalFields = optionalFields }
    public func run() -> FragileOutput {
        FragileOutput(first: 1, second: "two", required: 3, optionalFields: optionalFields)
    }
}

/// Whether descriptor `descriptor` is open in the child.
public struct IsDescriptorOpenTask: ParallelTask {
    public var descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }
    public func run() -> Bool { fcntl(descriptor, F_GETFD) != -1 }
}

/// The descriptors open in the child, from `/proc/self/fd` (the directory's own excluded).
public struct OpenDescriptorsTask: ParallelTask {
    public init() {}
    public func run() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var open: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name), fd != dirfd(directory) { open.append(fd) }
        }
        return open.sorted()
    }
}

/// The child's parent pid as the kernel sees it (`getppid`), which for a fork server's worker is
/// the server, not the program.
public struct KernelParentTask: ParallelTask {
    public init() {}
    public func run() -> Int32 { getppid() }
}

/// Starts a WorkerThread that sends `message` on `connection` after `delay`, and returns at once.
public struct BackgroundThreadTask: ParallelTask {
    public var connection: Connection
    public var isDaemon: Bool
    public var delayMilliseconds: Int
    public init(connection: Connection, isDaemon: Bool, delayMilliseconds: Int) {
        self.connection = connection
        self.isDaemon = isDaemon
        self.delayMilliseconds = delayMilliseconds
    }
    public func run() throws -> String {
        let connection = connection
        let delay = delayMilliseconds
        let thread = WorkerThread(isDaemon: isDaemon) {
            // Stands for work the thread does after the task returned.
            usleep(UInt32(delay * 1000))
            try connection.send("sent by the thread")
        }
        try thread.start()
        return "returned"
    }
}

/// Redirects its standard error into a pipe, starts a grandchild that throws (inheriting that
/// standard error), and returns what the grandchild printed.
public struct CaptureGrandchildErrorTask: ParallelTask {
    public var printsErrors: Bool
    public init(printsErrors: Bool) { self.printsErrors = printsErrors }
    public func run() throws -> String {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw FixtureError(message: "pipe failed", number: Int(errno)) }
        dup2(fds[1], 2)
        close(fds[1])
        let grandchild = ChildProcess(
            running: ThrowingTask(codable: true),
            name: "grandchild",
            printsErrors: printsErrors
        )
        try grandchild.start()
        _ = try? grandchild.value()
        close(2)  // the last write end: the read below ends at EOF
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer.prefix(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What a child knows about itself and its parent, and the daemon flag a grandchild it creates gets.
public struct ContextReport: Codable, Sendable {
    public var current: String
    public var currentPid: Int32
    public var isDaemon: Bool
    public var startMethod: String?
    public var parentName: String?
    public var parentPid: Int32?
    public var grandchildIsDaemon: Bool
}

public struct ReportContextTask: ParallelTask {
    public init() {}
    public func run() -> ContextReport {
        let current = WorkerContext.currentProcess
        let parent = WorkerContext.parentProcess
        let grandchild = ChildProcess(running: FibonacciTask(n: 3))
        return ContextReport(
            current: current.name,
            currentPid: current.pid,
            isDaemon: current.isDaemon,
            startMethod: current.startMethod?.rawValue,
            parentName: parent?.name,
            parentPid: parent?.pid,
            grandchildIsDaemon: grandchild.isDaemon
        )
    }
}

/// Waits for one value on `connection`, then returns it: a child that stays until told to go.
public struct WaitForValueTask: ParallelTask {
    public var connection: Connection
    public init(connection: Connection) { self.connection = connection }
    public func run() throws -> Int { try connection.receive(Int.self) }
}

/// Returns this process's pid: a worker serving many tasks answers with the same one.
public struct PidTask: ParallelTask {
    public init() {}
    public func run() -> Int32 { getpid() }
}

/// A worker's global, set by an initializer and read by later tasks.
nonisolated(unsafe) public var fixtureInitializedValue = 0

public struct SetGlobalInitializer: ParallelTask {
    public var value: Int
    public var fails: Bool
    public init(value: Int, fails: Bool = false) {
        self.value = value
        self.fails = fails
    }
    public func run() throws -> NoOutput {
        if fails { throw FixtureError(message: "initializer failed", number: value) }
        fixtureInitializedValue = value
        return NoOutput()
    }
}

public struct ReadGlobalTask: ParallelTask {
    public init() {}
    public func run() -> Int { fixtureInitializedValue }
}

/// The number of threads in this process (`Threads:` in /proc/self/status).
public func currentThreadCount() -> Int { threadCount(ofProcess: nil) }

/// The number of threads in process `pid` (`Threads:` in /proc/<pid>/status), or -1.
public func threadCount(ofProcess pid: Int32?) -> Int {
    guard let file = fopen("/proc/\(pid.map(String.init) ?? "self")/status", "r") else { return -1 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("Threads:") {
            return Int(
                text.dropFirst("Threads:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" }).prefix {
                    $0.isNumber
                }
            ) ?? -1
        }
    }
    return -1
}

extension Substring {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        drop(while: predicate)
    }
}

/// Sleeps, standing for long work (for timeout and cancellation tests), then returns its argument.
public struct SleepTask: ParallelTask {
    public var milliseconds: Int
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public func run() -> Int {
        usleep(UInt32(milliseconds * 1000))
        return milliseconds
    }
}

/// Returns `byteCount` bytes of ``LargePayloadTask/pattern(_:)``: an output far larger than a socket buffer.
public struct LargeOutputTask: ParallelTask {
    public var byteCount: Int
    public init(byteCount: Int) { self.byteCount = byteCount }
    public func run() -> [UInt8] { LargePayloadTask.pattern(byteCount) }
}

/// Returns a connection it closed first: an output that fails while encoding, in the child.
public struct ReturnClosedConnectionTask: ParallelTask {
    public init() {}
    public func run() throws -> Connection {
        let (end, other) = try Connection.pipe()
        end.close()
        other.close()
        return end
    }
}
