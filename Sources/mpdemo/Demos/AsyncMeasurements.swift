import Dispatch
import Multiprocessing

/// What the event loop costs and carries: an awaited round trip next to the blocking one, and how
/// many awaited receives a thousand waiting tasks complete per second.
struct AsyncMeasurements {
    var roundTrips: Int
    var concurrentReceivers: Int

    /// Microseconds per round trip with `await send` / `await receive` to a spawned echo child.
    func roundTrip() throws -> Double {
        try runBlocking {
            let (parent, childEnd) = try Connection.pipe()
            let child = ChildProcess(running: PipeEchoTask(connection: childEnd))
            try child.start()
            childEnd.close()
            for value in 0..<100 {  // warm up
                try await parent.send(value)
                _ = try await parent.receive(Int.self)
            }
            let start = ContinuousClock.now
            for value in 0..<roundTrips {
                try await parent.send(value)
                _ = try await parent.receive(Int.self)
            }
            let elapsed = ContinuousClock.now - start
            parent.close()
            try await child.join()
            return elapsed.seconds / Double(roundTrips) * 1e6
        }
    }

    /// Awaited receives completed per second when `concurrentReceivers` tasks wait at once and the
    /// data for all of them is then sent.
    func concurrentReceives() throws -> Double {
        try runBlocking {
            let pairs = try (0..<concurrentReceivers).map { _ in try Connection.pipe() }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                for pair in pairs {
                    group.addTask { _ = try await pair.readEnd.receive(Int.self) }
                }
                // Give every task the chance to suspend on the event loop first.
                for _ in 0..<4 { await Task.yield() }
                let start = ContinuousClock.now
                for (index, pair) in pairs.enumerated() { try pair.writeEnd.sendNow(index) }
                try await group.waitForAll()
                return Double(pairs.count) / (ContinuousClock.now - start).seconds
            }
        }
    }
}

extension Connection {
    /// The blocking send, callable from async code without picking the async overload.
    fileprivate func sendNow(_ value: Int) throws { try send(value) }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Runs async work from the synchronous benchmark harness and waits for it.
func runBlocking<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) throws -> Result {
    let box = ResultBox<Result>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<Value>: @unchecked Sendable {
    var result: Result<Value, any Error>?
}
