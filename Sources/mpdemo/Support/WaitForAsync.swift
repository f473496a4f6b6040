import Dispatch

/// Runs `body` on the cooperative pool and waits for it from this thread, which must not be one of
/// the pool's (a command's `run()`, a benchmark's loop).
func waitForAsync<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) throws -> Result {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<Result>()
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<Result>: @unchecked Sendable {
    var result: Swift.Result<Result, any Error>?
}
