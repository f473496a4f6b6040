import _CMultiprocessingShims

/// What a parent and the workers it spawns agree on; the one place that defines it.
///
/// A spawned worker is this same binary, re-executed with ``tokenName`` in its environment (the C
/// shim sees it before `main` and enters ``WorkerLoop`` instead). It finds its control socket at
/// fd ``controlDescriptor`` and its lifeline at ``lifelineDescriptor``; everything above those is
/// closed before it runs. On the control socket:
///
/// 1. parent → worker: one ``WorkerConfiguration`` frame;
/// 2. then any number of requests: a ``WorkerRequest`` frame followed by the task's own frame
///    (so descriptors inside the task travel with it); the worker answers each with one
///    ``TaskReport`` frame, which holds the output itself, so an output that fails to encode is
///    never replaced by something else;
/// 3. the parent shuts down its sending side when it has no more work; the worker sees end of
///    stream, waits for its non-daemon ``WorkerThread``s and exits with the last task's code.
///
/// A single-task ``ChildProcess`` is the case of one request; a pool worker serves many.
enum WorkerProtocol {
    /// The control socket's number in a spawned worker.
    static let controlDescriptor: CInt = 3
    /// The lifeline's read end in a spawned worker: EOF there means the parent is gone.
    static let lifelineDescriptor: CInt = 4
    /// The lowest descriptor a spawned worker does not keep.
    static let firstUnlistedDescriptor: CInt = 5
    /// The environment variable that makes a re-executed binary a worker (defined once, in C).
    static let tokenName = MPSHIM_WORKER_TOKEN
    /// Bumped whenever the frames above change, so a mismatched binary fails clearly.
    static let version = 3

    /// `<version>:<parent pid>:<1 if the spawn already closed inherited descriptors, else 0>`.
    static func token(parentPid: Int32, closedInheritedDescriptors: Bool) -> String {
        "\(tokenName)=\(version):\(parentPid):\(closedInheritedDescriptors ? 1 : 0)"
    }

    /// The parent pid and whether inherited descriptors are already closed, or `nil` for a token
    /// this version does not understand.
    static func parseToken(_ value: String) -> (parentPid: Int32, closedInheritedDescriptors: Bool)? {
        let parts = value.split(separator: ":")
        guard parts.count == 3, Int(parts[0]) == version, let parentPid = Int32(parts[1]) else { return nil }
        return (parentPid, parts[2] == "1")
    }
}

/// The exit codes a worker uses, as Python's: 0 success, 1 the (last) task threw or could not run.
enum WorkerExitCode {
    static let success: Int32 = 0
    static let taskFailed: Int32 = 1
    /// The parent vanished or spoke a protocol this worker does not understand (`EX_SOFTWARE`).
    static let parentVanished: Int32 = MPSHIM_EXIT_PARENT_VANISHED
}

/// The first frame a worker receives: who it is.
struct WorkerConfiguration: Codable, Sendable {
    var processName: String
    var isDaemon: Bool
    var startMethod: StartMethod
    var parentName: String
    var parentPid: Int32
    /// Whether a task's error is printed to the worker's standard error (Python prints tracebacks).
    var printsTaskErrors: Bool
}

/// A request to a worker; the task's own frame follows.
///
/// Encoded by hand as a tag and the type name: a synthesized enum coding (keyed containers, case
/// names as strings) cost more than the rest of a tiny task's trip.
enum WorkerRequest: Codable, Sendable, Equatable {
    /// Run the task and report its output.
    case run(typeName: String)
    /// Run the task once as the worker's initializer; if it fails, report and exit.
    case initialize(typeName: String)
    /// Become the fork server: from now on the control socket carries ``ForkRequest``s.
    case serveForks

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        switch self {
        case .run(let typeName):
            try container.encode(UInt8(0))
            try container.encode(typeName)
        case .initialize(let typeName):
            try container.encode(UInt8(1))
            try container.encode(typeName)
        case .serveForks:
            try container.encode(UInt8(2))
        }
    }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        switch try container.decode(UInt8.self) {
        case 0: self = .run(typeName: try container.decode(String.self))
        case 1: self = .initialize(typeName: try container.decode(String.self))
        case 2: self = .serveForks
        case let tag:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown worker request \(tag)")
        }
    }
}

/// Asks the fork server for a worker: the worker's ends of its control socket and lifeline, and the
/// write end of the pipe on which the server reports the worker's exit status.
struct ForkRequest: Codable, Sendable {
    var control: PassedDescriptor
    var lifeline: PassedDescriptor
    var exitReport: PassedDescriptor
}

/// The fork server's answer: the new worker's pid and a pidfd for it (opened by the server, whose
/// child it is, so that no reused pid can be mistaken for it), or why the fork failed.
enum ForkReply: Codable, Sendable {
    case started(pid: Int32, pidfd: PassedDescriptor)
    case failed(call: String, errno: Int32)
}

/// The exit report: two native `Int32`s, the kind (``exited`` or ``signaled``) and the code or
/// signal number, written once by the fork server when it reaps the worker.
enum ForkServerExitReport {
    static let exited: Int32 = 0
    static let signaled: Int32 = 1
}

/// What a worker reports for one task: one frame, holding the output itself. Coded by hand as a
/// tag and its payload, for the same reason as ``WorkerRequest``.
package enum TaskReport<Output: Codable>: Codable {
    case output(Output)
    case thrown(ThrownError)
    /// The worker could not run the task at all (unknown type, undecodable task, unencodable output).
    case setupFailed(code: ProcessError.Code.Storage, message: String)

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        switch self {
        case .output(let output):
            try container.encode(UInt8(0))
            try container.encode(output)
        case .thrown(let thrown):
            try container.encode(UInt8(1))
            try container.encode(thrown)
        case .setupFailed(let code, let message):
            try container.encode(UInt8(2))
            try container.encode(code)
            try container.encode(message)
        }
    }

    package init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        switch try container.decode(UInt8.self) {
        case 0: self = .output(try container.decode(Output.self))
        case 1: self = .thrown(try container.decode(ThrownError.self))
        case 2:
            self = .setupFailed(
                code: try container.decode(ProcessError.Code.Storage.self),
                message: try container.decode(String.self)
            )
        case let tag:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown task report \(tag)")
        }
    }
}

/// An error thrown by a task, as it crosses back to the parent: the value itself when its type is
/// `Codable` (so the parent rethrows the same error), and always its type name and description.
package struct ThrownError: Codable, Sendable {
    var typeName: String
    var description: String
    var mangledTypeName: String?
    var payload: [UInt8]?

    package init(_ error: any Error) {
        if let encodable = error as? any Encodable, let name = _mangledTypeName(type(of: error)),
            _typeByName(name) != nil
        {
            payload = try? BinaryEncoder().encode(encodable)
            mangledTypeName = payload == nil ? nil : name
        }
        typeName = String(reflecting: type(of: error))
        description = String(describing: error)
    }

    /// The error to throw in the parent: the original type if it decodes, else ``RemoteTaskError``.
    var reconstructed: any Error {
        if let mangledTypeName, let payload,
            let errorType = typeByPrintableName(mangledTypeName) as? any (Error & Decodable).Type,
            let error = try? BinaryDecoder().decode(errorType, from: payload)
        {
            return error
        }
        return RemoteTaskError(typeName: typeName, errorDescription: description)
    }
}

extension TaskReport {
    /// The task's result as the parent sees it.
    package func result(pid: Int32?) -> Result<Output, any Error> {
        switch self {
        case .output(let output): .success(output)
        case .thrown(let thrown): .failure(thrown.reconstructed)
        case .setupFailed(let code, let message):
            .failure(ProcessError(ProcessError.Code(storage: code), message, pid: pid))
        }
    }
}

/// Sends what a task produced and returns the exit code it implies.
///
/// The output is encoded into the report frame before anything is written, so an output that
/// cannot be encoded is reported as ``ProcessError/Code-swift.struct/outputEncodingFailed`` and
/// nothing else is ever taken for it.
func sendReport<Output: Codable>(_ outcome: Result<Output, any Error>, over control: Connection) -> Int32 {
    do {
        switch outcome {
        case .success(let output):
            do {
                try control.send(TaskReport<Output>.output(output))
                return WorkerExitCode.success
            } catch let error as ConnectionError where error.code == .endOfStream || error.code == .systemCallFailed {
                // The write failed: the parent is gone. (A closed Connection or too many descriptors
                // inside the output, or an oversized output, fail while encoding: reported below.)
                return WorkerExitCode.parentVanished
            } catch {
                let report = TaskReport<Output>.setupFailed(
                    code: .outputEncodingFailed,
                    message: "the output of type \(Output.self) could not be encoded: \(error)"
                )
                try control.send(report)
                return WorkerExitCode.taskFailed
            }
        case .failure(let error):
            try control.send(TaskReport<Output>.thrown(ThrownError(error)))
            return WorkerExitCode.taskFailed
        }
    } catch {
        return WorkerExitCode.parentVanished  // The parent is gone; nobody is left to tell.
    }
}

extension TaskReport: Sendable where Output: Sendable {}
