/// Runs async work to completion from synchronous code on a thread that may block (a spawned
/// worker's main thread, a ``WorkerThread``). Never call it on a cooperative-pool thread.
func blockingAwait<Output: Sendable>(_ body: @escaping @Sendable () async throws -> Output) -> Result<Output, any Error>
{
    let box = AwaitBox<Output>()
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        box.done.set()
    }
    _ = box.done.wait(timeout: nil)
    return box.result!
}

private final class AwaitBox<Output>: @unchecked Sendable {
    var result: Result<Output, any Error>?
    let done = OneShotEvent()
}
