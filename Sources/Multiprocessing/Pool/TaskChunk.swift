/// Several tasks of one type sent to a worker as one message and run there in order: how a map
/// spreads small tasks without a round trip each (Python's `chunksize`).
public struct TaskChunk<Task: ParallelTask>: ParallelTask {
    var tasks: [Task]

    init(tasks: [Task]) {
        self.tasks = tasks
    }

    // The array itself, without a keyed container around it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(tasks)
    }

    public init(from decoder: any Decoder) throws {
        tasks = try decoder.singleValueContainer().decode([Task].self)
    }

    public func run() async throws -> [Task.Output] {
        var outputs: [Task.Output] = []
        outputs.reserveCapacity(tasks.count)
        for task in tasks { outputs.append(try await task.run()) }
        return outputs
    }
}
