import Dispatch
import SystemPackage

/// Async variants: the same calls, run off the cooperative thread pool. Cancelling the awaiting task
/// ends a wait for data with `CancellationError`; a frame already being read is read to its end.
extension Connection {
    /// Sends one value without blocking a cooperative thread. See ``send(_:)``.
    public func send<Value: Encodable & Sendable>(_ value: Value) async throws {
        try await BlockingCall.run { try self.send(value) }
    }

    /// Sends raw bytes as one frame without blocking a cooperative thread. See ``sendBytes(_:)-(UnsafeRawBufferPointer)``.
    public func sendBytes(_ bytes: [UInt8]) async throws {
        try await BlockingCall.run { try self.sendBytes(bytes) }
    }

    /// Receives the next value, suspending until it arrives. See ``receive(_:)``.
    ///
    /// - Throws: As ``receive(_:)``, and `CancellationError` if the task is cancelled while waiting.
    public func receive<Value: Decodable & Sendable>(_ type: Value.Type = Value.self) async throws -> Value {
        try await whenReadable { try self.receive(type) }
    }

    /// Receives the next frame's bytes, suspending until they arrive. See ``receiveBytes()``.
    public func receiveBytes() async throws -> [UInt8] {
        try await whenReadable { try self.receiveBytes() }
    }

    /// Suspends until a frame or end of stream can be read, or `timeout` passes. See ``poll(timeout:)``.
    public func poll(timeout: Duration?) async throws -> Bool {
        try await BlockingCall.run { try self.poll(timeout: timeout) }
    }

    private func whenReadable<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try Task.checkCancellation()
        if try pollNow() { return try await BlockingCall.run(body) }
        let signal: CancellationSignal
        do throws(SystemCallError) { signal = try CancellationSignal() } catch {
            throw ConnectionError(.systemCallFailed, error.call, underlyingError: error.errno)
        }
        guard let fd = descriptor?.rawValue else { throw ConnectionError(.closed, "receive on a closed connection") }
        return try await withTaskCancellationHandler {
            try await BlockingCall.run {
                let readable: Bool
                do throws(SystemCallError) { readable = try signal.waitForReadable(fd) } catch {
                    throw ConnectionError(.systemCallFailed, error.call, underlyingError: error.errno)
                }
                guard readable else { throw CancellationError() }
                return try body()
            }
        } onCancel: {
            signal.fire()
        }
    }
}
