#if MPI
import CMPI
import Multiprocessing

/// A group of MPI ranks that exchange messages: mpi4py's `Comm`, with `Codable` values instead of
/// pickles.
///
/// ```swift
/// let world = try MPICommunicator.world        // initialises MPI on first use
/// if world.rank == 0 {
///     try world.send(["hello", "ranks"], to: 1, tag: 7)
/// } else if world.rank == 1 {
///     let words = try world.receive([String].self, from: 0, tag: 7)
/// }
/// let total = try world.allReduce(world.rank, .sum)
/// ```
///
/// Values of any `Codable` type cross in the library's binary encoding; arrays of ``MPINumeric``
/// numbers cross as their own memory (`send(contentsOf:to:tag:)`). Every call may be made from any
/// thread; the `async` forms suspend without holding a thread. MPI is initialised with
/// `MPI_THREAD_MULTIPLE` on first use and finalized when the process exits; its errors arrive as
/// ``MPIError`` with MPI's own message.
public struct MPICommunicator: @unchecked Sendable {
    let handle: MPI_Comm
    /// This process's rank in the communicator, `0..<size`.
    public let rank: Int
    /// How many ranks the communicator has.
    public let size: Int

    init(handle: MPI_Comm) throws {
        self.handle = handle
        var rank: Int32 = 0
        var size: Int32 = 0
        try MPIEnvironment.check(MPI_Comm_rank(handle, &rank), "MPI_Comm_rank")
        try MPIEnvironment.check(MPI_Comm_size(handle, &size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Every rank of the job (`MPI_COMM_WORLD`); initialises MPI on first use. Without `mpirun`
    /// the process is a job of its own, of size 1.
    public static var world: MPICommunicator {
        get throws {
            try MPIEnvironment.initialize()
            return try MPICommunicator(handle: cmpi_comm_world())
        }
    }

    /// Initialises MPI with `threadLevel` unless it is already, and returns the level it provides.
    /// Call it before anything else to ask for less than the default ``MPIThreadLevel/multiple``.
    ///
    /// - Throws: ``MPIError/Code-swift.struct/threadSupport`` when MPI provides less than asked.
    @discardableResult
    public static func initialize(threadLevel: MPIThreadLevel) throws(MPIError) -> MPIThreadLevel {
        try MPIEnvironment.initialize(requesting: threadLevel)
    }

    /// A communicator with the same ranks and a message space of its own (`MPI_Comm_dup`), so a
    /// library's messages never match the program's. Every rank must call it.
    public func duplicate() throws -> MPICommunicator {
        var copy: MPI_Comm? = nil
        try MPIEnvironment.check(MPI_Comm_dup(handle, &copy), "MPI_Comm_dup")
        return try MPICommunicator(handle: copy!)
    }

    /// The largest tag this MPI accepts (`MPI_TAG_UB`, at least 32767).
    public var tagUpperBound: Int { MPIEnvironment.tagUpperBound }

    // MARK: - Values

    /// Sends `value`, encoded, to rank `destination`; returns when its buffer may be reused (a
    /// small message is on its way, a large one has been taken by the receiver).
    public func send<Value: Encodable>(_ value: Value, to destination: Int, tag: Int = 0) throws {
        let bytes = try encode(value)
        try sendBytes(bytes, to: destination, tag: tag)
    }

    /// Receives the next value from `source` (any rank when `nil`) with `tag` (any when `nil`).
    ///
    /// - Throws: ``MPIError/Code-swift.struct/decodingFailed`` when the message is not a `Value`;
    ///   the message is consumed, the next one is not.
    public func receive<Value: Decodable>(
        _ type: Value.Type = Value.self,
        from source: Int? = nil,
        tag: Int? = nil
    ) throws -> Value {
        try receiveMessage(type, from: source, tag: tag).value
    }

    /// `receive(_:from:tag:)` with the sender's rank and the message's tag.
    public func receiveMessage<Value: Decodable>(
        _ type: Value.Type = Value.self,
        from source: Int? = nil,
        tag: Int? = nil
    ) throws -> MPIMessage<Value> {
        let matched = try probeBlocking(from: source, tag: tag)
        return try decodeMessage(Value.self, try receiveMatchedBytes(matched), status: matched.status)
    }

    /// Whether a message from `source` with `tag` is waiting, without receiving it (`MPI_Iprobe`).
    public func hasMessage(from source: Int? = nil, tag: Int? = nil) throws -> Bool {
        var found: Int32 = 0
        try MPIEnvironment.check(
            MPI_Iprobe(try sourceArgument(source), try tagArgument(tag), handle, &found, cmpi_status_ignore()),
            "MPI_Iprobe"
        )
        return found != 0
    }

    // MARK: - Bytes, shared by the value and pool paths

    func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        try BinaryEncoder().encode(value)
    }

    func sendBytes(_ bytes: [UInt8], to destination: Int, tag: Int) throws {
        let destination = try rankArgument(destination)
        let tag = try tagArgument(tag)
        let count = try countArgument(bytes.count)
        try bytes.withUnsafeBytes { (buffer) in
            try MPIEnvironment.check(
                MPI_Send(buffer.baseAddress, count, cmpi_byte(), destination, tag, handle),
                "MPI_Send"
            )
        }
    }

    func probeBlocking(from source: Int?, tag: Int?) throws -> MatchedMessage {
        var matched = MatchedMessage(message: nil, status: MPI_Status())
        try MPIEnvironment.check(
            MPI_Mprobe(try sourceArgument(source), try tagArgument(tag), handle, &matched.message, &matched.status),
            "MPI_Mprobe"
        )
        return matched
    }

    /// Matches the next message from `source` with `tag` for this caller if one is waiting.
    func probeNow(from source: Int?, tag: Int?) throws -> MatchedMessage? {
        var found: Int32 = 0
        var matched = MatchedMessage(message: nil, status: MPI_Status())
        try MPIEnvironment.check(
            MPI_Improbe(
                try sourceArgument(source),
                try tagArgument(tag),
                handle,
                &found,
                &matched.message,
                &matched.status
            ),
            "MPI_Improbe"
        )
        return found != 0 ? matched : nil
    }

    func receiveMatchedBytes(_ matched: MatchedMessage) throws -> [UInt8] {
        var status = matched.status
        var count: Int32 = 0
        try MPIEnvironment.check(MPI_Get_count(&status, cmpi_byte(), &count), "MPI_Get_count")
        var message = matched.message
        var failure: Int32 = MPI_SUCCESS
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(count)) { buffer, initialized in
            failure = MPI_Mrecv(buffer.baseAddress, count, cmpi_byte(), &message, cmpi_status_ignore())
            initialized = failure == MPI_SUCCESS ? Int(count) : 0
        }
        try MPIEnvironment.check(failure, "MPI_Mrecv")
        return bytes
    }

    func decodeMessage<Value: Decodable>(
        _ type: Value.Type,
        _ bytes: [UInt8],
        status: MPI_Status
    ) throws -> MPIMessage<Value> {
        do {
            let value = try BinaryDecoder().decode(Value.self, from: bytes)
            return MPIMessage(value: value, source: Int(status.MPI_SOURCE), tag: Int(status.MPI_TAG))
        } catch {
            throw MPIError(
                .decodingFailed,
                "a message of \(bytes.count) bytes from rank \(status.MPI_SOURCE) (tag \(status.MPI_TAG)) is not a "
                    + "\(String(reflecting: Value.self)): \(error)"
            )
        }
    }

    // MARK: - Arguments

    func rankArgument(_ rank: Int) throws -> Int32 {
        guard (0..<size).contains(rank) else {
            throw MPIError(.invalidArgument, "rank \(rank) is not in this communicator of size \(size)")
        }
        return Int32(rank)
    }

    func sourceArgument(_ source: Int?) throws -> Int32 {
        guard let source else { return MPI_ANY_SOURCE }
        return try rankArgument(source)
    }

    func tagArgument(_ tag: Int?) throws -> Int32 {
        guard let tag else { return MPI_ANY_TAG }
        guard (0...tagUpperBound).contains(tag) else {
            throw MPIError(.invalidArgument, "tag \(tag) is not in 0...\(tagUpperBound) (MPI_TAG_UB)")
        }
        return Int32(tag)
    }

    func countArgument(_ count: Int) throws -> Int32 {
        guard count <= Int(Int32.max) else {
            throw MPIError(
                .invalidArgument,
                "a message of \(count) elements is beyond MPI's count limit of \(Int32.max)"
            )
        }
        return Int32(count)
    }
}

/// A received value with where it came from.
public struct MPIMessage<Value> {
    /// The value.
    public var value: Value
    /// The rank that sent it.
    public var source: Int
    /// Its tag.
    public var tag: Int
}

extension MPIMessage: Sendable where Value: Sendable {}
#endif
