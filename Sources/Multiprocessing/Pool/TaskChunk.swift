/// Several tasks of one type sent to a worker as one message and run there in order: how a map
/// spreads small tasks without a round trip each (Python's `chunksize`).
public struct TaskChunk<Task: ParallelTask>: ParallelTask {
    var tasks: [Task]

    public func run() async throws -> [Task.Output] {
        var outputs: [Task.Output] = []
        outputs.reserveCapacity(tasks.count)
        for task in tasks { outputs.append(try await task.run()) }
        return outputs
    }
}
