#if MPI
import CMPI

/// The non-blocking collectives (`MPI_Ibcast`, `MPI_Iallreduce`, …): every rank calls the same
/// one, in the same order, and suspends on the progress thread until it completes, holding no
/// thread. Not cancellable: the other ranks are in the operation too.
extension MPICommunicator {
    /// The root's value on every rank, without holding a thread while the others arrive.
    public func broadcast<Value: Codable>(_ value: Value?, root: Int = 0) async throws -> Value {
        try MPIEnvironment.requireMultipleThreads(for: "an async broadcast")
        let root = try rankArgument(root)
        let isRoot = rank == Int(root)
        var bytes: [UInt8] = []
        if isRoot {
            guard let value else { throw MPIError(.invalidArgument, "the root of a broadcast passed no value") }
            bytes = try encode(value)
        }
        let count = OwnedBuffer<Int64>(copying: [Int64(bytes.count)])
        try await complete("MPI_Ibcast") { request in
            MPI_Ibcast(count.start, 1, Int64.mpiDatatype.handle, root, handle, &request)
        }
        let payload = isRoot ? OwnedBuffer(copying: bytes) : OwnedBuffer<UInt8>(count: Int(count[0]))
        let mpiCount = try countArgument(payload.count)
        try await complete("MPI_Ibcast") { request in
            MPI_Ibcast(payload.start, mpiCount, cmpi_byte(), root, handle, &request)
        }
        // MPI used these until now; Swift would free them after their last use above.
        withExtendedLifetime((count, payload)) {}
        if isRoot, let value { return value }
        var status = MPI_Status()
        status.MPI_SOURCE = root
        return try decodeMessage(Value.self, payload.array, status: status).value
    }

    /// Every rank's numbers combined element by element, on every rank.
    public func allReduce<Element: MPINumeric>(
        _ elements: [Element],
        _ operation: MPIReduction<Element>
    ) async throws -> [Element] {
        try await reduce(elements, operation, root: nil)!
    }

    /// Every rank's number combined with `operation`, on every rank.
    public func allReduce<Element: MPINumeric>(
        _ value: Element,
        _ operation: MPIReduction<Element>
    ) async throws
        -> Element
    {
        try await allReduce([value], operation)[0]
    }

    /// Every rank's numbers combined element by element, on the root; `nil` elsewhere.
    public func reduce<Element: MPINumeric>(
        _ elements: [Element],
        _ operation: MPIReduction<Element>,
        root: Int = 0
    ) async throws -> [Element]? {
        try await reduce(elements, operation, root: try rankArgument(root))
    }

    /// Every rank's number combined with `operation`, on the root; `nil` elsewhere.
    public func reduce<Element: MPINumeric>(
        _ value: Element,
        _ operation: MPIReduction<Element>,
        root: Int = 0
    ) async throws -> Element? {
        try await reduce([value], operation, root: root)?.first
    }

    /// Every rank's value in rank order, on the root; `nil` elsewhere.
    public func gather<Value: Codable>(_ value: Value, root: Int = 0) async throws -> [Value]? {
        let root = try rankArgument(root)
        let gathered = try await gatherBytes(try encode(value), root: root)
        return rank == Int(root) ? try split(gathered, as: Value.self) : nil
    }

    /// Every rank's value in rank order, on every rank.
    public func allGather<Value: Codable>(_ value: Value) async throws -> [Value] {
        try split(try await gatherBytes(try encode(value), root: nil), as: Value.self)
    }

    /// Rank `i` receives the root's `values[i]`; the root passes one value per rank, the others `nil`.
    public func scatter<Value: Codable>(_ values: [Value]?, root: Int = 0) async throws -> Value {
        try MPIEnvironment.requireMultipleThreads(for: "an async scatter")
        let root = try rankArgument(root)
        let (counts, packed) = try packForScatter(values, root: root)
        let countsBuffer = OwnedBuffer(copying: counts)
        let mine = OwnedBuffer<Int32>(count: 1)
        let int32 = Int32.mpiDatatype.handle
        try await complete("MPI_Iscatter") { request in
            MPI_Iscatter(countsBuffer.start, 1, int32, mine.start, 1, int32, root, handle, &request)
        }
        let displacements = OwnedBuffer(copying: try layout(counts).displacements)
        let input = OwnedBuffer(copying: packed)
        let output = OwnedBuffer<UInt8>(count: Int(mine[0]))
        try await complete("MPI_Iscatterv") { request in
            MPI_Iscatterv(
                input.start,
                countsBuffer.start,
                displacements.start,
                cmpi_byte(),
                output.start,
                mine[0],
                cmpi_byte(),
                root,
                handle,
                &request
            )
        }
        withExtendedLifetime((countsBuffer, displacements, input)) {}
        var status = MPI_Status()
        status.MPI_SOURCE = root
        return try decodeMessage(Value.self, output.array, status: status).value
    }

    // MARK: - Internals

    /// `MPI_Ireduce` to `root`, or `MPI_Iallreduce` when `root` is `nil`.
    private func reduce<Element: MPINumeric>(
        _ elements: [Element],
        _ operation: MPIReduction<Element>,
        root: Int32?
    ) async throws -> [Element]? {
        try MPIEnvironment.requireMultipleThreads(for: "an async reduction")
        let count = try countArgument(elements.count)
        let prepared = try operation.prepare()
        let input = OwnedBuffer(copying: elements)
        let output = OwnedBuffer(copying: elements)
        if let root {
            try await complete("MPI_Ireduce") { request in
                MPI_Ireduce(
                    input.start,
                    output.start,
                    count,
                    prepared.datatype,
                    prepared.operation,
                    root,
                    handle,
                    &request
                )
            }
        } else {
            try await complete("MPI_Iallreduce") { request in
                MPI_Iallreduce(
                    input.start,
                    output.start,
                    count,
                    prepared.datatype,
                    prepared.operation,
                    handle,
                    &request
                )
            }
        }
        withExtendedLifetime((prepared, input, output)) {}
        return root.map { rank == Int($0) } ?? true ? output.array : nil
    }

    /// The async form of the byte gatherer behind `gather` and `allGather`.
    private func gatherBytes(
        _ bytes: [UInt8],
        root: Int32?
    ) async throws -> (bytes: [UInt8], counts: [Int32], displacements: [Int32]) {
        try MPIEnvironment.requireMultipleThreads(for: "an async gather")
        let count = try countArgument(bytes.count)
        let receives = root.map { rank == Int($0) } ?? true
        let mine = OwnedBuffer<Int32>(copying: [count])
        let counts = OwnedBuffer<Int32>(count: receives ? size : 0)
        let int32 = Int32.mpiDatatype.handle
        try await complete(root == nil ? "MPI_Iallgather" : "MPI_Igather") { request in
            if let root {
                MPI_Igather(mine.start, 1, int32, counts.start, 1, int32, root, handle, &request)
            } else {
                MPI_Iallgather(mine.start, 1, int32, counts.start, 1, int32, handle, &request)
            }
        }
        withExtendedLifetime(mine) {}
        let (displacementArray, total) = try layout(counts.array)
        let displacements = OwnedBuffer(copying: displacementArray)
        let input = OwnedBuffer(copying: bytes)
        let output = OwnedBuffer<UInt8>(count: total)
        try await complete(root == nil ? "MPI_Iallgatherv" : "MPI_Igatherv") { request in
            if let root {
                MPI_Igatherv(
                    input.start,
                    count,
                    cmpi_byte(),
                    output.start,
                    counts.start,
                    displacements.start,
                    cmpi_byte(),
                    root,
                    handle,
                    &request
                )
            } else {
                MPI_Iallgatherv(
                    input.start,
                    count,
                    cmpi_byte(),
                    output.start,
                    counts.start,
                    displacements.start,
                    cmpi_byte(),
                    handle,
                    &request
                )
            }
        }
        withExtendedLifetime((input, displacements)) {}
        return (output.array, counts.array, displacementArray)
    }

    /// Starts a non-blocking operation and suspends until it completes.
    private func complete(_ call: String, _ start: (inout MPI_Request?) -> Int32) async throws {
        var request: MPI_Request? = nil
        try MPIEnvironment.check(start(&request), call)
        _ = try await MPIProgressEngine.shared.completion(of: request)
    }
}

/// Memory MPI may read and write while the caller is suspended: allocated here, never moved,
/// freed when the last reference goes (after the operation, which the caller awaits).
final class OwnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    let start: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int) {
        self.count = count
        start = .allocate(capacity: max(count, 1))
        UnsafeMutableRawPointer(start).initializeMemory(
            as: UInt8.self,
            repeating: 0,
            count: max(count, 1) * MemoryLayout<Element>.stride
        )
    }

    convenience init(copying elements: [Element]) {
        self.init(count: elements.count)
        elements.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { start.update(from: base, count: elements.count) }
        }
    }

    subscript(index: Int) -> Element { start[index] }

    var array: [Element] { Array(UnsafeBufferPointer(start: start, count: count)) }

    deinit { start.deallocate() }
}
#endif
