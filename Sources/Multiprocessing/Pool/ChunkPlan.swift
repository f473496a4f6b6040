/// The chunks of one map: which remain to be sent, and what came back for each. Shared by the
/// pumps that feed the workers.
final class ChunkPlan<Output: Sendable>: Sendable {
    private struct State {
        var nextFresh = 0
        var returned: [Int] = []
        var outputs: [Output?]
        var failures: [(index: Int, error: any Error)] = []
    }

    private let count: Int
    private let state: ProtectedState<State>

    init(count: Int) {
        self.count = count
        state = ProtectedState(State(outputs: [Output?](repeating: nil, count: count)))
    }

    /// Whether chunks remain to be sent (none once a chunk failed: a map stops at its first error).
    var hasWork: Bool {
        state.withLock { $0.failures.isEmpty && (!$0.returned.isEmpty || $0.nextFresh < count) }
    }

    /// The next chunk to send to a worker that has `ahead` chunks in flight already, or `nil`.
    /// Sending ahead keeps a worker from waiting for the parent, but only while there is enough
    /// left for every worker to get its share: near the end, chunks wait for whoever is free.
    func take(ahead: Int, workers: Int) -> Int? {
        state.withLock { state in
            guard state.failures.isEmpty else { return nil }
            let remaining = state.returned.count + (count - state.nextFresh)
            if ahead > 0, remaining < workers * (ahead + 1) { return nil }
            if !state.returned.isEmpty { return state.returned.removeFirst() }
            guard state.nextFresh < count else { return nil }
            defer { state.nextFresh += 1 }
            return state.nextFresh
        }
    }

    /// Chunks that were sent to a worker that died before starting them.
    func giveBack(_ indices: [Int]) {
        state.withLock { $0.returned.append(contentsOf: indices) }
    }

    func deliver(_ index: Int, _ result: Result<Output, any Error>) {
        state.withLock { state in
            switch result {
            case .success(let output): state.outputs[index] = output
            case .failure(let error): state.failures.append((index, error))
            }
        }
    }

    /// Every output in order, or the error of the first chunk (in order) that failed.
    func outputs() throws -> [Output] {
        try state.withLock { state in
            if let first = state.failures.min(by: { $0.index < $1.index }) { throw first.error }
            return state.outputs.map { $0! }
        }
    }
}
