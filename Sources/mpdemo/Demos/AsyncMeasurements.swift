import Multiprocessing

/// What the event loop costs and carries: an awaited round trip next to the blocking one, and how
/// many awaited receives a thousand waiting tasks complete per second.
///
/// Measured in a child process of its own (``AsyncMeasurementTask``): a thousand pipes and tasks
/// leave a larger heap behind, which would slow every later `fork` in the benchmark process.
struct AsyncMeasurements {
    var roundTrips: Int
    var concurrentReceivers: Int

    /// Both figures, measured in a spawned child: (µs per awaited round trip, receives per second).
    func measureInChild() throws -> (roundTrip: Double, concurrentReceives: Double) {
        let child = ChildProcess(
            running: AsyncMeasurementTask(roundTrips: roundTrips, concurrentReceivers: concurrentReceivers)
        )
        try child.start()
        let figures = try child.value()
        return (figures[0], figures[1])
    }

    /// Microseconds per round trip with `await send` / `await receive` to a spawned echo child.
    func roundTrip() async throws -> Double {
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

    /// Awaited receives completed per second when `concurrentReceivers` tasks wait at once and the
    /// data for all of them is then sent.
    func concurrentReceives() async throws -> Double {
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

/// Runs ``AsyncMeasurements`` in a child and returns `[round trip µs, receives/s]`.
struct AsyncMeasurementTask: ParallelTask {
    var roundTrips: Int
    var concurrentReceivers: Int

    func run() async throws -> [Double] {
        let measurements = AsyncMeasurements(roundTrips: roundTrips, concurrentReceivers: concurrentReceivers)
        return [try await measurements.roundTrip(), try await measurements.concurrentReceives()]
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
