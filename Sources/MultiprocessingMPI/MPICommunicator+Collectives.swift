#if MPI
import CMPI

/// Collective operations: every rank of the communicator calls the same one, in the same order.
extension MPICommunicator {
    /// Waits until every rank has called it (`MPI_Barrier`).
    public func barrier() throws {
        try MPIEnvironment.check(MPI_Barrier(handle), "MPI_Barrier")
    }

    // MARK: - Broadcast

    /// The root's value, on every rank: mpi4py's `bcast`. The root passes its value; the others
    /// pass `nil` (what they pass is ignored).
    public func broadcast<Value: Codable>(_ value: Value?, root: Int = 0) throws -> Value {
        let root = try rankArgument(root)
        var bytes: [UInt8] = []
        if rank == Int(root) {
            guard let value else { throw MPIError(.invalidArgument, "the root of a broadcast passed no value") }
            bytes = try encode(value)
        }
        try broadcastBytes(&bytes, root: root)
        if rank == Int(root), let value { return value }
        var status = MPI_Status()
        status.MPI_SOURCE = root
        return try decodeMessage(Value.self, bytes, status: status).value
    }

    /// The root's numbers, on every rank, without encoding: the others' arrays are replaced.
    public func broadcast<Element: MPINumeric>(_ elements: inout [Element], root: Int = 0) throws {
        let root = try rankArgument(root)
        var count = Int64(elements.count)
        try MPIEnvironment.check(MPI_Bcast(&count, 1, Int64.mpiDatatype.handle, root, handle), "MPI_Bcast")
        if rank != Int(root) {
            // Zeroed storage of the root's length, for MPI to overwrite.
            elements = [Element](unsafeUninitializedCapacity: Int(count)) { buffer, initialized in
                _ = UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
                initialized = Int(count)
            }
        }
        let mpiCount = try countArgument(Int(count))
        try elements.withUnsafeMutableBufferPointer { (buffer) in
            try MPIEnvironment.check(
                MPI_Bcast(buffer.baseAddress, mpiCount, Element.mpiDatatype.handle, root, handle),
                "MPI_Bcast"
            )
        }
    }

    private func broadcastBytes(_ bytes: inout [UInt8], root: Int32) throws {
        var count = Int64(bytes.count)
        try MPIEnvironment.check(MPI_Bcast(&count, 1, Int64.mpiDatatype.handle, root, handle), "MPI_Bcast")
        if rank != Int(root) { bytes = [UInt8](repeating: 0, count: Int(count)) }
        let mpiCount = try countArgument(Int(count))
        try bytes.withUnsafeMutableBytes { (buffer) in
            try MPIEnvironment.check(MPI_Bcast(buffer.baseAddress, mpiCount, cmpi_byte(), root, handle), "MPI_Bcast")
        }
    }

    // MARK: - Reduce

    /// Combines every rank's number with `operation`; the result on the root, `nil` elsewhere.
    public func reduce<Element: MPINumeric>(
        _ value: Element,
        _ operation: MPIReduction<Element>,
        root: Int = 0
    ) throws -> Element? {
        try reduce([value], operation, root: root)?.first
    }

    /// Combines every rank's array element by element; the result on the root, `nil` elsewhere.
    /// Every rank passes the same count.
    public func reduce<Element: MPINumeric>(
        _ elements: [Element],
        _ operation: MPIReduction<Element>,
        root: Int = 0
    ) throws -> [Element]? {
        try reduceElements(elements, operation, root: try rankArgument(root))
    }

    /// Combines every rank's number with `operation`; the result on every rank.
    public func allReduce<Element: MPINumeric>(
        _ value: Element,
        _ operation: MPIReduction<Element>
    ) throws -> Element {
        try allReduce([value], operation)[0]
    }

    /// Combines every rank's array element by element; the result on every rank.
    public func allReduce<Element: MPINumeric>(
        _ elements: [Element],
        _ operation: MPIReduction<Element>
    ) throws -> [Element] {
        try reduceElements(elements, operation, root: nil)!
    }

    /// `MPI_Reduce` to `root`, or `MPI_Allreduce` when `root` is `nil`.
    private func reduceElements<Element: MPINumeric>(
        _ elements: [Element],
        _ operation: MPIReduction<Element>,
        root: Int32?
    ) throws -> [Element]? {
        let count = try countArgument(elements.count)
        var result = elements
        let prepared = try operation.prepare()
        try withExtendedLifetime(prepared) {
            try elements.withUnsafeBufferPointer { (input) in
                try result.withUnsafeMutableBufferPointer { (output) in
                    let (op, type) = (prepared.operation, prepared.datatype)
                    if let root {
                        try MPIEnvironment.check(
                            MPI_Reduce(input.baseAddress, output.baseAddress, count, type, op, root, handle),
                            "MPI_Reduce"
                        )
                    } else {
                        try MPIEnvironment.check(
                            MPI_Allreduce(input.baseAddress, output.baseAddress, count, type, op, handle),
                            "MPI_Allreduce"
                        )
                    }
                }
            }
        }
        return root.map { rank == Int($0) } ?? true ? result : nil
    }

    /// Folds every rank's value with `combine`, in rank order; the result on the root, `nil`
    /// elsewhere. For any `Codable` value (mpi4py's `reduce` with a Python function).
    public func reduce<Value: Codable>(
        _ value: Value,
        root: Int = 0,
        combining combine: (Value, Value) throws -> Value
    ) throws -> Value? {
        guard let values = try gather(value, root: root) else { return nil }
        return try values.dropFirst().reduce(values[0], combine)
    }

    /// Folds every rank's value with `combine`, in rank order; the result on every rank.
    public func allReduce<Value: Codable>(
        _ value: Value,
        combining combine: (Value, Value) throws -> Value
    ) throws -> Value {
        let values = try allGather(value)
        return try values.dropFirst().reduce(values[0], combine)
    }

    // MARK: - Gather and scatter

    /// Every rank's value, in rank order, on the root; `nil` elsewhere: mpi4py's `gather`.
    public func gather<Value: Codable>(_ value: Value, root: Int = 0) throws -> [Value]? {
        let root = try rankArgument(root)
        let gathered = try gatherBytes(try encode(value), root: root)
        return rank == Int(root) ? try split(gathered, as: Value.self) : nil
    }

    /// Every rank's value, in rank order, on every rank: mpi4py's `allgather`.
    public func allGather<Value: Codable>(_ value: Value) throws -> [Value] {
        try split(try gatherBytes(try encode(value), root: nil), as: Value.self)
    }

    /// Every rank's bytes in rank order with where each rank's start: on `root`, or on every rank
    /// when `root` is `nil` (elsewhere, empty). Counts go first, so each rank may send any length.
    private func gatherBytes(
        _ bytes: [UInt8],
        root: Int32?
    ) throws -> (bytes: [UInt8], counts: [Int32], displacements: [Int32]) {
        var count = try countArgument(bytes.count)
        let receives = root.map { rank == Int($0) } ?? true
        var counts = [Int32](repeating: 0, count: receives ? size : 0)
        let int32 = Int32.mpiDatatype.handle
        if let root {
            try MPIEnvironment.check(MPI_Gather(&count, 1, int32, &counts, 1, int32, root, handle), "MPI_Gather")
        } else {
            try MPIEnvironment.check(MPI_Allgather(&count, 1, int32, &counts, 1, int32, handle), "MPI_Allgather")
        }
        let (displacements, total) = try layout(counts)
        var gathered = [UInt8](repeating: 0, count: total)
        try bytes.withUnsafeBytes { (input) in
            try gathered.withUnsafeMutableBytes { (output) in
                if let root {
                    try MPIEnvironment.check(
                        MPI_Gatherv(
                            input.baseAddress,
                            count,
                            cmpi_byte(),
                            output.baseAddress,
                            counts,
                            displacements,
                            cmpi_byte(),
                            root,
                            handle
                        ),
                        "MPI_Gatherv"
                    )
                } else {
                    try MPIEnvironment.check(
                        MPI_Allgatherv(
                            input.baseAddress,
                            count,
                            cmpi_byte(),
                            output.baseAddress,
                            counts,
                            displacements,
                            cmpi_byte(),
                            handle
                        ),
                        "MPI_Allgatherv"
                    )
                }
            }
        }
        return (gathered, counts, displacements)
    }

    /// Rank `i` receives the root's `values[i]`: mpi4py's `scatter`. The root passes one value per
    /// rank; the others pass `nil`.
    public func scatter<Value: Codable>(_ values: [Value]?, root: Int = 0) throws -> Value {
        let root = try rankArgument(root)
        var (counts, packed) = try packForScatter(values, root: root)
        var count: Int32 = 0
        try MPIEnvironment.check(
            MPI_Scatter(&counts, 1, Int32.mpiDatatype.handle, &count, 1, Int32.mpiDatatype.handle, root, handle),
            "MPI_Scatter"
        )
        let (displacements, _) = try layout(counts)
        var mine = [UInt8](repeating: 0, count: Int(count))
        try packed.withUnsafeBytes { (input) in
            try mine.withUnsafeMutableBytes { (output) in
                try MPIEnvironment.check(
                    MPI_Scatterv(
                        input.baseAddress,
                        counts,
                        displacements,
                        cmpi_byte(),
                        output.baseAddress,
                        count,
                        cmpi_byte(),
                        root,
                        handle
                    ),
                    "MPI_Scatterv"
                )
            }
        }
        var status = MPI_Status()
        status.MPI_SOURCE = root
        return try decodeMessage(Value.self, mine, status: status).value
    }

    /// On the root, each value's encoded length and all of them end to end; elsewhere nothing.
    func packForScatter<Value: Encodable>(_ values: [Value]?, root: Int32) throws -> (counts: [Int32], packed: [UInt8])
    {
        guard rank == Int(root) else { return ([], []) }
        guard let values, values.count == size else {
            throw MPIError(
                .invalidArgument,
                "the root of a scatter must pass one value per rank (\(size)), not \(values?.count ?? 0)"
            )
        }
        var counts: [Int32] = []
        var packed: [UInt8] = []
        for value in values {
            let bytes = try encode(value)
            counts.append(try countArgument(bytes.count))
            packed += bytes
        }
        return (counts, packed)
    }

    /// Where each rank's bytes start in a gathered buffer, and the buffer's size.
    func layout(_ counts: [Int32]) throws -> (displacements: [Int32], total: Int) {
        var displacements: [Int32] = []
        displacements.reserveCapacity(counts.count)
        var total = 0
        for count in counts {
            displacements.append(try countArgument(total))
            total += Int(count)
        }
        _ = try countArgument(total)
        return (displacements, total)
    }

    func split<Value: Decodable>(
        _ gathered: (bytes: [UInt8], counts: [Int32], displacements: [Int32]),
        as type: Value.Type
    ) throws -> [Value] {
        let (bytes, counts, displacements) = gathered
        return try counts.indices.map { index in
            let start = Int(displacements[index])
            var status = MPI_Status()
            status.MPI_SOURCE = Int32(index)
            return try decodeMessage(
                Value.self,
                Array(bytes[start..<start + Int(counts[index])]),
                status: status
            ).value
        }
    }
}
#endif
