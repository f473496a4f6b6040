import Foundation

/// The measured samples of one metric, both sides.
struct MetricResult {
    var metric: Metric
    var swift: SampleSummary?
    var python: SampleSummary?

    /// Swift ÷ Python of the medians (lower is better for times, higher for rates: see `metric.direction`).
    var ratio: Double? {
        guard let swift, let python, python.median > 0 else { return nil }
        return swift.median / python.median
    }

    /// How many times better Swift is, whichever direction is better.
    var swiftAdvantage: Double? {
        guard let swift, let python else { return nil }
        return metric.direction.advantage(of: swift.median, over: python.median)
    }
}

/// Facts about the machine, so a result file says where it was measured.
struct MachineDescription {
    var cores: Int
    var memoryBytes: Int
    var operatingSystem: String
    var kernel: String
    var swiftVersion: String
    var pythonVersion: String?

    static func current(python: String?) -> MachineDescription {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let prettyName = osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        let swiftVersion =
            (try? PythonRunner.capture(["swift", "--version"]))?
            .split(separator: "\n").first.map(String.init) ?? compiledSwiftVersion
        return MachineDescription(
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int(ProcessInfo.processInfo.physicalMemory),
            operatingSystem: prettyName ?? field(uts.sysname),
            kernel: field(uts.release),
            swiftVersion: swiftVersion,
            pythonVersion: python
        )
    }

    var json: JSONObject {
        var object = JSONObject()
        object["cores"] = cores
        object["memory_bytes"] = memoryBytes
        object["os"] = operatingSystem
        object["kernel"] = kernel
        object["swift"] = swiftVersion
        object["python"] = pythonVersion ?? NSNull()
        return object
    }
}

/// The compiler that built this binary, for machines without `swift` on the PATH.
private var compiledSwiftVersion: String {
    #if compiler(>=6.3)
    "compiled with Swift 6.3 or newer"
    #elseif compiler(>=6.2)
    "compiled with Swift 6.2"
    #else
    "compiled with Swift older than 6.2"
    #endif
}

/// Everything one `mpdemo bench` run measured.
struct BenchmarkReport {
    var date: Date
    var machine: MachineDescription
    var repetitions: Int
    var quick: Bool
    var results: [MetricResult]
    var notes: [String]

    var json: JSONObject {
        var object = JSONObject()
        object["tool"] = "mpdemo bench"
        object["date"] = ISO8601DateFormatter().string(from: date)
        object["machine"] = machine.json
        object["repetitions"] = repetitions
        object["quick"] = quick
        object["notes"] = notes
        object["benchmarks"] =
            results.map { result -> JSONObject in
                var row = JSONObject()
                row["id"] = result.metric.id
                row["label"] = result.metric.label
                row["unit"] = result.metric.unit
                row["better"] = result.metric.direction.rawValue
                row["swift"] = result.swift.map(Self.summaryJSON) ?? NSNull()
                row["python"] = result.python.map(Self.summaryJSON) ?? NSNull()
                row["ratio_swift_over_python"] = result.ratio ?? NSNull()
                row["swift_advantage"] = result.swiftAdvantage ?? NSNull()
                return row
            } as [Any]
        return object
    }

    private static func summaryJSON(_ summary: SampleSummary) -> JSONObject {
        var object = JSONObject()
        object["median"] = summary.median
        object["min"] = summary.minimum
        object["max"] = summary.maximum
        object["spread"] = summary.relativeSpread
        object["samples"] = summary.samples
        return object
    }

    /// The terminal table.
    var table: String {
        var lines: [String] = []
        let labelWidth = max(40, results.map(\.metric.label.count).max() ?? 0)
        func cell(_ summary: SampleSummary?, _ unit: String) -> String {
            guard let summary else { return "—" }
            return "\(format(summary.median)) \(unit) ±\(Int((summary.relativeSpread * 50).rounded()))%"
        }
        lines.append(
            pad("benchmark", labelWidth, left: true) + pad("Swift (median)", 24) + pad("CPython (median)", 24)
                + pad("Swift/Python", 14) + pad("Swift advantage", 17)
        )
        for result in results {
            let ratio = result.ratio.map { String(format: "%.3g", $0) } ?? "—"
            let advantage = result.swiftAdvantage.map { String(format: "%.2f×", $0) } ?? "—"
            lines.append(
                pad(result.metric.label, labelWidth, left: true) + pad(cell(result.swift, result.metric.unit), 24)
                    + pad(cell(result.python, result.metric.unit), 24) + pad(ratio, 14) + pad(advantage, 17)
                    + "  (\(result.metric.direction == .lower ? "lower" : "higher") is better)"
            )
        }
        lines.append("± is half the spread (max − min) over \(repetitions) repetitions, as a share of the median.")
        return lines.joined(separator: "\n")
    }
}

private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    guard text.count < width else { return text }
    let space = String(repeating: " ", count: width - text.count)
    return left ? text + space : space + text
}
