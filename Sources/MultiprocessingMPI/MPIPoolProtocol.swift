#if MPI
import Multiprocessing

/// What an ``MPIPool``'s root and workers say to each other, on the pool's own communicator.
///
/// - root → worker, tag ≥ 1: a task: the type's name (UInt32 length, UTF-8), then the task's bytes.
/// - worker → root, same tag: the task's `TaskReport`, as a spawned worker would send it.
/// - root → worker, tag 0, empty: stop serving.
enum MPIPoolProtocol {
    static let stopTag = 0

    static func taskMessage<Task: ParallelTask>(_ task: Task) throws -> [UInt8] {
        let name = Array(try WorkerProcess.typeName(of: Task.self).utf8)
        var message: [UInt8] = []
        message.reserveCapacity(4 + name.count + 16)
        withUnsafeBytes(of: UInt32(name.count).littleEndian) { message.append(contentsOf: $0) }
        message.append(contentsOf: name)
        try BinaryEncoder().encode(task, into: &message)
        return message
    }

    /// The type name and the task's bytes of a task message, or `nil` when it is malformed.
    static func parseTaskMessage(_ message: [UInt8]) -> (typeName: String, task: ArraySlice<UInt8>)? {
        guard message.count >= 4 else { return nil }
        let length = message.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        guard length <= message.count - 4 else { return nil }
        let name = String(decoding: message[4..<4 + length], as: UTF8.self)
        return (name, message[(4 + length)...])
    }
}
#endif
