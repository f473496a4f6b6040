#if MPI
import CMPI

/// The non-blocking forms: each starts the operation, then suspends on the progress thread
/// (``MPIProgressEngine``) until it completes, holding no thread meanwhile.
extension MPICommunicator {
    /// Sends `value` and suspends until its buffer is free (`MPI_Isend`). Not cancellable: once
    /// started, a send completes.
    public func send<Value: Encodable>(_ value: Value, to destination: Int, tag: Int = 0) async throws {
        let bytes = try encode(value)
        try await sendBytes(bytes, to: destination, tag: tag)
    }

    /// Receives the next value from `source` with `tag` (any when `nil`), suspending until one
    /// arrives. Cancelling the waiting task throws `CancellationError` and leaves the message for
    /// the next receiver.
    public func receive<Value: Decodable>(
        _ type: Value.Type = Value.self,
        from source: Int? = nil,
        tag: Int? = nil
    ) async throws -> Value {
        try await receiveMessage(type, from: source, tag: tag).value
    }

    /// The async `receiveMessage(_:from:tag:)`: the value, its sender and its tag.
    public func receiveMessage<Value: Decodable>(
        _ type: Value.Type = Value.self,
        from source: Int? = nil,
        tag: Int? = nil
    ) async throws -> MPIMessage<Value> {
        let matched = try await probe(from: source, tag: tag)
        return try decodeMessage(Value.self, try receiveMatchedBytes(matched), status: matched.status)
    }

    /// Sends the numbers themselves and suspends until MPI is done with the array's memory.
    public func send<Element: MPINumeric>(
        contentsOf elements: [Element],
        to destination: Int,
        tag: Int = 0
    )
        async throws
    {
        try MPIEnvironment.requireMultipleThreads(for: "an async send")
        let destination = try rankArgument(destination)
        let tag = try tagArgument(tag)
        let count = try countArgument(elements.count)
        // The array is kept alive and unmodified until the send completes, so its storage stays put.
        let request = try elements.withUnsafeBufferPointer { (buffer) in
            var request: MPI_Request? = nil
            try MPIEnvironment.check(
                MPI_Isend(buffer.baseAddress, count, Element.mpiDatatype.handle, destination, tag, handle, &request),
                "MPI_Isend"
            )
            return request
        }
        _ = try await MPIProgressEngine.shared.completion(of: request)
        withExtendedLifetime(elements) {}
    }

    /// Receives an array of numbers, suspending until it arrives; cancellable as
    /// `receive(_:from:tag:)`.
    public func receive<Element: MPINumeric>(
        arrayOf type: Element.Type,
        from source: Int? = nil,
        tag: Int? = nil
    ) async throws -> [Element] {
        try receiveMatchedElements(Element.self, try await probe(from: source, tag: tag))
    }

    /// Suspends until every rank has reached it (`MPI_Ibarrier`).
    public func barrier() async throws {
        try MPIEnvironment.requireMultipleThreads(for: "an async barrier")
        var request: MPI_Request? = nil
        try MPIEnvironment.check(MPI_Ibarrier(handle, &request), "MPI_Ibarrier")
        _ = try await MPIProgressEngine.shared.completion(of: request)
    }

    func sendBytes(_ bytes: [UInt8], to destination: Int, tag: Int) async throws {
        try MPIEnvironment.requireMultipleThreads(for: "an async send")
        let destination = try rankArgument(destination)
        let tag = try tagArgument(tag)
        let count = try countArgument(bytes.count)
        var completed: Int32 = 0
        let request = try bytes.withUnsafeBytes { (buffer) in
            var request: MPI_Request? = nil
            try MPIEnvironment.check(
                MPI_Isend(buffer.baseAddress, count, cmpi_byte(), destination, tag, handle, &request),
                "MPI_Isend"
            )
            // A small message is usually gone at once: no suspension then.
            try MPIEnvironment.check(MPI_Test(&request, &completed, cmpi_status_ignore()), "MPI_Test")
            return request
        }
        if completed == 0 { _ = try await MPIProgressEngine.shared.completion(of: request) }
        withExtendedLifetime(bytes) {}
    }

    /// Matches the next message from `source` with `tag` for this caller: at once when one is
    /// waiting, else on the progress thread.
    func probe(from source: Int?, tag: Int?) async throws -> MatchedMessage {
        try MPIEnvironment.requireMultipleThreads(for: "an async receive")
        // A reply is often microseconds away: a few more looks cost less than parking and waking.
        for _ in 0..<64 {
            if let matched = try probeNow(from: source, tag: tag) { return matched }
        }
        return try await MPIProgressEngine.shared.message(
            on: handle,
            source: try sourceArgument(source),
            tag: try tagArgument(tag)
        )
    }
}
#endif
