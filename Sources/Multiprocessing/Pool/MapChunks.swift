/// Runs every chunk through `apply`, at most `inFlight` at once, and returns the outputs in order;
/// the first error cancels the rest. What both pools' plain `map` does.
package func mapChunks<Task: ParallelTask>(
    _ chunks: [TaskChunk<Task>],
    inFlight: Int,
    tracker: ProgressTracker?,
    apply: @escaping @Sendable (TaskChunk<Task>) async throws -> [Task.Output]
) async throws -> [Task.Output] {
    try await withThrowingTaskGroup(of: (Int, [Task.Output]).self) { group in
        var outputs = [[Task.Output]?](repeating: nil, count: chunks.count)
        var next = 0
        func submitNext() {
            let index = next
            next += 1
            group.addTask { (index, try await apply(chunks[index])) }
        }
        while next < min(chunks.count, inFlight) { submitNext() }
        while let (index, chunkOutputs) = try await group.next() {
            outputs[index] = chunkOutputs
            tracker?.completed(chunkOutputs.count)
            if next < chunks.count { submitNext() }
        }
        return outputs.flatMap { $0! }
    }
}

/// What both pools' `map` starts with: the tasks cut in chunks (Python's sizes for `workers`) and
/// a tracker for `progress`; `nil` when there are no tasks.
package func mapPlan<Task: ParallelTask>(
    _ tasks: some Sequence<Task>,
    chunkSize: Int?,
    workers: Int,
    progress: (@Sendable (PoolProgress) -> Void)?
) -> (chunks: [TaskChunk<Task>], tracker: ProgressTracker?)? {
    let all = Array(tasks)
    if all.isEmpty { return nil }
    return (
        ProcessPool.chunks(of: all, chunkSize: chunkSize, workers: workers),
        progress.map { ProgressTracker(total: all.count, report: $0) }
    )
}
