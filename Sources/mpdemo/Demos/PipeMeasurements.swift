import Multiprocessing

/// The Pipe slide's measurements, shared by `mpdemo pipe` and `mpdemo bench`.
struct PipeMeasurements {
    var roundTrips: Int
    var messages: Int
    var payloadMib: Int

    var repetitions: Int { max(1, 64 / payloadMib) }

    func roundTrip() throws -> Double {
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: PipeEchoTask(connection: childEnd))
        try child.start()
        childEnd.close()
        for value in 0..<100 {  // warm up
            try parent.send(value)
            _ = try parent.receive(Int.self)
        }
        let seconds = try measure {
            for value in 0..<roundTrips {
                try parent.send(value)
                _ = try parent.receive(Int.self)
            }
        }
        parent.close()
        try child.join()
        return seconds / Double(roundTrips) * 1e6
    }

    /// Messages per second one way, three ways: `send`/`receive` per message (what Python's Pipe
    /// does), `send(contentsOf:)` with `receive` per message, and batches on both sides.
    func oneWay() throws -> (perMessage: Double, batchedSend: Double, batched: Double) {
        func rate(batchedSend: Bool, batchedReceive: Bool) throws -> Double {
            let (parent, childEnd) = try Connection.pipe()
            let child = ChildProcess(
                running: PipeSinkTask(connection: childEnd, count: messages, batched: batchedReceive)
            )
            try child.start()
            childEnd.close()
            let seconds = try measure {
                if batchedSend {
                    try parent.send(contentsOf: 0..<messages)
                } else {
                    for value in 0..<messages { try parent.send(value) }
                }
                let received = try parent.receive(Int.self)
                precondition(received == messages, "the sink counted \(received) of \(messages)")
            }
            try child.join()
            return Double(messages) / seconds
        }
        return (
            try rate(batchedSend: false, batchedReceive: false),
            try rate(batchedSend: true, batchedReceive: false),
            try rate(batchedSend: true, batchedReceive: true)
        )
    }

    func bandwidth() throws -> Double {
        let byteCount = payloadMib << 20
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(
            running: PipeBandwidthTask(connection: childEnd, byteCount: byteCount, repetitions: repetitions + 1)
        )
        try child.start()
        childEnd.close()
        let payload = [UInt8](repeating: 0xA5, count: byteCount)
        try parent.sendBytes(payload)  // warm up
        _ = try parent.receiveBytes()
        let seconds = try measure {
            for _ in 0..<repetitions {
                try parent.sendBytes(payload)
                _ = try parent.receiveBytes()
            }
        }
        try child.join()
        return Double(byteCount * repetitions) / seconds / 1e6
    }
}
