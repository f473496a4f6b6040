#if MPI
import CMPI

extension MPICommunicator {
    /// Sends the numbers themselves: MPI reads the array's memory, nothing is encoded (mpi4py's
    /// `Send` of a buffer).
    public func send<Element: MPINumeric>(
        contentsOf elements: [Element],
        to destination: Int,
        tag: Int = 0
    )
        throws
    {
        try elements.withUnsafeBufferPointer { (buffer) in
            try send(contentsOf: buffer, to: destination, tag: tag)
        }
    }

    /// Sends the numbers in `buffer` without copying them.
    public func send<Element: MPINumeric>(
        contentsOf buffer: UnsafeBufferPointer<Element>,
        to destination: Int,
        tag: Int = 0
    ) throws {
        let destination = try rankArgument(destination)
        let tag = try tagArgument(tag)
        let count = try countArgument(buffer.count)
        try MPIEnvironment.check(
            MPI_Send(buffer.baseAddress, count, Element.mpiDatatype.handle, destination, tag, handle),
            "MPI_Send"
        )
    }

    /// Receives an array of numbers sent with `send(contentsOf:to:tag:)`, of whatever length was
    /// sent: MPI writes straight into the new array's storage.
    public func receive<Element: MPINumeric>(
        arrayOf type: Element.Type,
        from source: Int? = nil,
        tag: Int? = nil
    ) throws -> [Element] {
        try receiveMatchedElements(Element.self, try probeBlocking(from: source, tag: tag))
    }

    /// Receives numbers into `buffer` (at most its count) and returns how many arrived, from whom.
    ///
    /// - Throws: ``MPIError/Code-swift.struct/callFailed`` (`MPI_ERR_TRUNCATE`) when the message is
    ///   longer than the buffer.
    @discardableResult
    public func receive<Element: MPINumeric>(
        into buffer: UnsafeMutableBufferPointer<Element>,
        from source: Int? = nil,
        tag: Int? = nil
    ) throws -> MPIMessage<Int> {
        var status = MPI_Status()
        try MPIEnvironment.check(
            MPI_Recv(
                buffer.baseAddress,
                try countArgument(buffer.count),
                Element.mpiDatatype.handle,
                try sourceArgument(source),
                try tagArgument(tag),
                handle,
                &status
            ),
            "MPI_Recv"
        )
        var count: Int32 = 0
        try MPIEnvironment.check(MPI_Get_count(&status, Element.mpiDatatype.handle, &count), "MPI_Get_count")
        return MPIMessage(value: Int(count), source: Int(status.MPI_SOURCE), tag: Int(status.MPI_TAG))
    }

    func receiveMatchedElements<Element: MPINumeric>(
        _ type: Element.Type,
        _ matched: MatchedMessage
    ) throws -> [Element] {
        var status = matched.status
        var count: Int32 = 0
        try MPIEnvironment.check(MPI_Get_count(&status, Element.mpiDatatype.handle, &count), "MPI_Get_count")
        guard count != MPI_UNDEFINED else {
            // Matched for this caller alone, so it is received (and dropped) here or never.
            let dropped = try receiveMatchedBytes(matched)
            throw MPIError(
                .decodingFailed,
                "a message of \(dropped.count) bytes from rank \(status.MPI_SOURCE) is not a whole number of "
                    + "\(Element.self) elements"
            )
        }
        var message = matched.message
        var failure: Int32 = MPI_SUCCESS
        let elements = [Element](unsafeUninitializedCapacity: Int(count)) { buffer, initialized in
            failure = MPI_Mrecv(buffer.baseAddress, count, Element.mpiDatatype.handle, &message, cmpi_status_ignore())
            initialized = failure == MPI_SUCCESS ? Int(count) : 0
        }
        try MPIEnvironment.check(failure, "MPI_Mrecv")
        return elements
    }
}
#endif
