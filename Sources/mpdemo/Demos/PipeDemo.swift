import ArgumentParser
import Foundation
import Multiprocessing

/// The slide's child: sends a number, nothing, a string and an array through its end.
struct PipeSenderTask: ParallelTask {
    var connection: Connection

    func run() throws -> NoOutput {
        try connection.send(42)
        try connection.send(Int?.none)
        try connection.send("hello")
        try connection.send([1, 2, 3])
        return NoOutput()
    }
}

/// Echoes every Int back until the parent closes its end.
struct PipeEchoTask: ParallelTask {
    var connection: Connection

    func run() throws -> NoOutput {
        while let value = try? connection.receive(Int.self) { try connection.send(value) }
        return NoOutput()
    }
}

/// Receives `count` Ints (one by one, or in batches of whatever is buffered), then answers with how
/// many arrived.
struct PipeSinkTask: ParallelTask {
    var connection: Connection
    var count: Int
    var batched: Bool

    func run() throws -> NoOutput {
        var received = 0
        while received < count {
            if batched {
                received += try connection.receiveBatch(Int.self, maximumCount: count - received).count
            } else {
                _ = try connection.receive(Int.self)
                received += 1
            }
        }
        try connection.send(received)
        return NoOutput()
    }
}

/// Receives `repetitions` byte frames into one buffer, acknowledging each with one byte.
struct PipeBandwidthTask: ParallelTask {
    var connection: Connection
    var byteCount: Int
    var repetitions: Int

    func run() throws -> NoOutput {
        var buffer = [UInt8](repeating: 0, count: byteCount)
        for _ in 0..<repetitions {
            _ = try buffer.withUnsafeMutableBytes { try connection.receiveBytes(into: $0) }
            try connection.sendBytes([1])
        }
        return NoOutput()
    }
}

/// The Pipe slide, then round-trip latency, one-way message rate and bulk bandwidth.
struct PipeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Pipe: a pair of connection objects. Values from a child, then round trip, rate and bandwidth."
    )

    @Option(help: "Round trips of a small Int to time.")
    var roundTrips = 10_000

    @Option(help: "Small Ints to send one way.")
    var messages = 1_000_000

    @Option(help: "Payload size for the bandwidth test, in MiB.")
    var payloadMib = 1

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard roundTrips > 0, messages > 0, (1...512).contains(payloadMib) else {
            throw ValidationError("--round-trips and --messages must be positive; --payload-mib 1...512")
        }
    }

    func run() throws {
        let quiet = common.json
        // The slide: a child sends a few different values; the parent prints what arrives.
        let (parentEnd, childEnd) = try Connection.pipe()
        let sender = ChildProcess(running: PipeSenderTask(connection: childEnd))
        try sender.start()
        childEnd.close()
        let number = try parentEnd.receive(Int.self)
        let nothing = try parentEnd.receive(Int?.self)
        let text = try parentEnd.receive(String.self)
        let array = try parentEnd.receive([Int].self)
        try sender.join()
        if !quiet {
            print("received: \(number)")
            print("received: \(nothing.map(String.init) ?? "nil")")
            print("received: \(text)")
            print("received: \(array)\n")
        }

        let measurements = PipeMeasurements(roundTrips: roundTrips, messages: messages, payloadMib: payloadMib)
        let roundTrip = try measurements.roundTrip()
        let (asyncRoundTrip, concurrentReceives) = try AsyncMeasurements(
            roundTrips: roundTrips,
            concurrentReceivers: 1000
        ).measureInChild()
        let (perMessageRate, batchedSendRate, batchedRate) = try measurements.oneWay()
        let bandwidth = try measurements.bandwidth()
        let memcpyRate = measureMemcpy(byteCount: payloadMib << 20, repetitions: measurements.repetitions)
        if !quiet {
            print(String(format: "round trip (%d small Ints):        %.2f µs", roundTrips, roundTrip))
            print(String(format: "awaited round trip (async):        %.2f µs", asyncRoundTrip))
            print(String(format: "1,000 concurrent awaited receives: %.0f receives/s", concurrentReceives))
            print(String(format: "one way, send/receive per message (%d):  %.0f messages/s", messages, perMessageRate))
            print(
                String(format: "one way, send(contentsOf:), receive (%d): %.0f messages/s", messages, batchedSendRate)
            )
            print(
                String(format: "one way, send(contentsOf:), receiveBatch (%d): %.0f messages/s", messages, batchedRate)
            )
            print(
                String(
                    format: "bandwidth, %d MiB frames:           %.0f MB/s (memcpy %.0f MB/s)",
                    payloadMib,
                    bandwidth,
                    memcpyRate
                )
            )
        }

        var figures = JSONObject()
        figures["demo"] = "pipe"
        figures["language"] = "swift"
        figures["received"] = [number, NSNull(), text, array] as [Any]
        figures["round_trips"] = roundTrips
        figures["round_trip_us"] = roundTrip
        figures["async_round_trip_us"] = asyncRoundTrip
        figures["concurrent_awaited_receives_per_s"] = concurrentReceives
        figures["messages"] = messages
        figures["one_way_msgs_per_s"] = batchedRate
        figures["one_way_batched_send_msgs_per_s"] = batchedSendRate
        figures["one_way_unbatched_msgs_per_s"] = perMessageRate
        figures["payload_bytes"] = payloadMib << 20
        figures["bandwidth_mb_s"] = bandwidth
        figures["memcpy_mb_s"] = memcpyRate

        if common.vsPython {
            let python = try PythonRunner(interpreter: common.python).run(
                "pipe.py",
                ["--round-trips", "\(roundTrips)", "--messages", "\(messages)", "--payload-mib", "\(payloadMib)"]
            )
            let cRoundTrip = try? CPingPong.run(roundTrips: max(roundTrips, 10_000))
            figures["python"] = python.asJSONObject
            figures["c_round_trip_us"] = cRoundTrip
            if !quiet {
                print("\nSide by side with CPython (Benchmarks/python/pipe.py) in the same run:")
                printComparison([
                    ComparisonRow(
                        label: "round trip",
                        unit: "µs",
                        swift: roundTrip,
                        other: python["round_trip_us"] as? Double,
                        better: .lower
                    ),
                    ComparisonRow(
                        label: "one way, batched both sides",
                        unit: "msg/s",
                        swift: batchedRate,
                        other: python["one_way_msgs_per_s"] as? Double,
                        better: .higher
                    ),
                    ComparisonRow(
                        label: "one way, batched send",
                        unit: "msg/s",
                        swift: batchedSendRate,
                        other: python["one_way_msgs_per_s"] as? Double,
                        better: .higher
                    ),
                    ComparisonRow(
                        label: "one way, per message",
                        unit: "msg/s",
                        swift: perMessageRate,
                        other: python["one_way_msgs_per_s"] as? Double,
                        better: .higher
                    ),
                    ComparisonRow(
                        label: "bandwidth \(payloadMib) MiB",
                        unit: "MB/s",
                        swift: bandwidth,
                        other: python["bandwidth_mb_s"] as? Double,
                        better: .higher
                    ),
                ])
                if let cRoundTrip {
                    print("\nAgainst a plain C socketpair ping-pong (Benchmarks/python/pingpong.c):")
                    printComparison(
                        [
                            ComparisonRow(
                                label: "round trip",
                                unit: "µs",
                                swift: roundTrip,
                                other: cRoundTrip,
                                better: .lower
                            )
                        ],
                        otherName: "C"
                    )
                }
                print(String(format: "\nbandwidth vs memcpy of the same size: %.0f%%", 100 * bandwidth / memcpyRate))
            }
        }
        if quiet { print(figures.text) }
    }
}

/// Copies `byteCount` bytes `repetitions` times in memory: the ceiling for bulk transfer.
func measureMemcpy(byteCount: Int, repetitions: Int) -> Double {
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
    let target = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
    defer {
        source.deallocate()
        target.deallocate()
    }
    source.initializeMemory(as: UInt8.self, repeating: 0xA5)
    target.initializeMemory(as: UInt8.self, repeating: 0)
    let seconds = measure {
        for _ in 0..<repetitions { target.copyMemory(from: UnsafeRawBufferPointer(source)) }
    }
    precondition(target[byteCount - 1] == 0xA5)
    return Double(byteCount * repetitions) / seconds / 1e6
}

/// The C baseline: compiles Benchmarks/python/pingpong.c with `cc` and runs it.
enum CPingPong {
    static func run(roundTrips: Int) throws -> Double {
        let source = PythonRunner.scriptDirectory.appendingPathComponent("pingpong.c").path
        let binary = FileManager.default.temporaryDirectory
            .appendingPathComponent("mpdemo-pingpong-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: binary) }
        _ = try PythonRunner.capture(["cc", "-O2", source, "-o", binary])
        let output = try PythonRunner.capture([binary, "\(roundTrips)"])
        guard let microseconds = PythonRunner.lastJSONObject(in: output)?["round_trip_us"] as? Double
        else { throw PythonRunner.Failure(description: "pingpong printed no round_trip_us") }
        return microseconds
    }
}
