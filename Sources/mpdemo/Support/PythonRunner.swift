import Foundation

/// Runs a Python original from `Benchmarks/python/` with `--json` and returns its figures.
struct PythonRunner {
    var interpreter: String

    /// Where the scripts are: `MPDEMO_PYTHON_DIR`, else the repository this binary was built from.
    static var scriptDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["MPDEMO_PYTHON_DIR"] {
            return URL(fileURLWithPath: directory)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/python")
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `script` with `arguments` and `--json`; returns the JSON object on its last stdout line.
    func run(_ script: String, _ arguments: [String]) throws -> [String: Any] {
        let path = Self.scriptDirectory.appendingPathComponent(script).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(description: "the Python original \(path) is missing (set MPDEMO_PYTHON_DIR)")
        }
        let output = try Self.capture([interpreter, path] + arguments + ["--json"])
        guard let object = Self.lastJSONObject(in: output) else {
            throw Failure(description: "\(script) printed no JSON object: \(output.suffix(500))")
        }
        return object
    }

    /// The JSON object on the last line of `output`, where every benchmark program prints its figures.
    static func lastJSONObject(in output: String) -> [String: Any]? {
        guard let line = output.split(separator: "\n").last else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    /// Runs a command (looked up in PATH) and returns its stdout; a non-zero exit is an error.
    static func capture(_ command: [String], discardingErrors: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        if discardingErrors { process.standardError = FileHandle.nullDevice }
        do { try process.run() } catch {
            throw Failure(description: "cannot run \(command[0]): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(command.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A row of a side-by-side comparison.
struct ComparisonRow {
    enum Better { case lower, higher }

    var label: String
    var unit: String
    var swift: Double
    var other: Double?
    var better: Better

    /// How many times better Swift is (above 1 means Swift wins), whichever direction is better.
    var advantage: Double? {
        guard let other, other > 0, swift > 0 else { return nil }
        return better == .lower ? other / swift : swift / other
    }
}

/// Prints rows as an aligned table with the ratio column.
func printComparison(_ rows: [ComparisonRow], otherName: String = "Python") {
    let labelWidth = max(28, rows.map(\.label.count).max() ?? 0)
    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
    func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    print(padRight("", labelWidth) + pad("Swift", 16) + pad(otherName, 16) + pad("Swift advantage", 18))
    for row in rows {
        let swift = format(row.swift) + " " + row.unit
        let other = row.other.map { format($0) + " " + row.unit } ?? "—"
        let advantage = row.advantage.map { String(format: "%.2f×", $0) } ?? "—"
        let note = row.better == .lower ? " (lower is better)" : " (higher is better)"
        print(padRight(row.label, labelWidth) + pad(swift, 16) + pad(other, 16) + pad(advantage, 18) + note)
    }
}

func format(_ value: Double) -> String {
    if value >= 1_000_000 {
        return String(format: "%.3g M", value / 1_000_000).replacingOccurrences(of: " M", with: "M")
    }
    if value >= 1000 { return String(format: "%.0f", value) }
    if value >= 10 { return String(format: "%.1f", value) }
    if value > 0, value < 0.01 { return String(format: "%.3g", value) }  // 6.4e-05, not 0.000
    return String(format: "%.3f", value)
}

/// Seconds elapsed while running `body`.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    let (seconds, attoseconds) = elapsed.components
    return Double(seconds) + Double(attoseconds) / 1e18
}
