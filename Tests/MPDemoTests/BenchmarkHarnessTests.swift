import ArgumentParser
import Foundation
import Testing

@testable import mpdemo

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("mpdemo bench: statistics, report, chart")
struct BenchmarkHarnessTests {
    @Test("median, extremes and spread of canned samples")
    func summary() throws {
        let odd = try #require(SampleSummary([5, 1, 3]))
        #expect(odd.median == 3 && odd.minimum == 1 && odd.maximum == 5)
        #expect(abs(odd.relativeSpread - 4.0 / 3.0) < 1e-12)
        let even = try #require(SampleSummary([4, 1, 3, 2]))
        #expect(even.median == 2.5)
        let withNaN = try #require(SampleSummary([.nan, 2, 4]))
        #expect(withNaN.median == 3)
        #expect(SampleSummary([]) == nil)
        #expect(SampleSummary([.nan]) == nil)
    }

    @Test("ratio direction: lower is better for times, higher for rates")
    func direction() throws {
        #expect(Direction.lower.advantage(of: 2, over: 8) == 4)
        #expect(Direction.higher.advantage(of: 8, over: 2) == 4)
        #expect(Direction.lower.advantage(of: 8, over: 2) == 0.25)
        #expect(Direction.higher.advantage(of: 0, over: 2) == nil)
        let metric = Metric(id: "t", label: "t", unit: "µs", direction: .lower, swiftKey: "t", pythonPath: ["t"])
        let result = MetricResult(metric: metric, swift: SampleSummary([10]), python: SampleSummary([40]))
        #expect(result.ratio == 0.25)
        #expect(result.swiftAdvantage == 4)
        let swiftOnly = MetricResult(metric: metric, swift: SampleSummary([10]), python: nil)
        #expect(swiftOnly.ratio == nil && swiftOnly.swiftAdvantage == nil)
    }

    @Test("figures are found by path in the Python scripts' JSON")
    func numberAtPath() throws {
        let object =
            try JSONSerialization.jsonObject(
                with: Data(#"{"ms_per_process": {"spawn": 71.5, "fork": 3}, "round_trip_us": 40}"#.utf8)
            ) as! [String: Any]
        #expect(BenchmarkCommand.number(at: ["ms_per_process", "spawn"], in: object) == 71.5)
        #expect(BenchmarkCommand.number(at: ["ms_per_process", "fork"], in: object) == 3)
        #expect(BenchmarkCommand.number(at: ["round_trip_us"], in: object) == 40)
        #expect(BenchmarkCommand.number(at: ["missing"], in: object) == nil)
    }

    @Test("the chart is well-formed SVG with one bar per compared benchmark")
    func chart() throws {
        let metrics = [
            Metric(id: "a", label: "a <&> b", unit: "µs", direction: .lower, swiftKey: "a", pythonPath: ["a"]),
            Metric(id: "b", label: "rate", unit: "msg/s", direction: .higher, swiftKey: "b", pythonPath: ["b"]),
            Metric(id: "c", label: "swift only", unit: "ms", direction: .lower, swiftKey: "c", pythonPath: nil),
        ]
        let report = BenchmarkReport(
            date: Date(timeIntervalSince1970: 0),
            machine: MachineDescription(
                cores: 2,
                memoryBytes: 1 << 30,
                operatingSystem: "Linux",
                kernel: "6",
                swiftVersion: "6.3",
                pythonVersion: "3.11"
            ),
            repetitions: 3,
            quick: true,
            results: [
                MetricResult(metric: metrics[0], swift: SampleSummary([15]), python: SampleSummary([40])),
                MetricResult(metric: metrics[1], swift: SampleSummary([5e6]), python: SampleSummary([1e5])),
                MetricResult(metric: metrics[2], swift: SampleSummary([3]), python: nil),
            ],
            notes: []
        )
        let svg = SVGChart(report: report).svg
        let delegate = ElementCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        #expect(delegate.counts["svg"] == 1)
        #expect(delegate.counts["rect"] == 3)  // background + two bars
        #expect(svg.contains("50.00×") && svg.contains("2.67×"))
    }

    @Test("a --quick --only run end to end writes JSON with both sides")
    func endToEnd() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mpdemo-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let jsonPath = directory.appendingPathComponent("bench.json").path
        let chartPath = directory.appendingPathComponent("bench.svg").path
        let command = try BenchmarkCommand.parse([
            "--quick", "--only", "pipe.round-trip", "--repeat", "1", "--json", jsonPath, "--chart", chartPath,
        ])
        try command.validate()
        try command.run()
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonPath))) as? [String: Any]
        )
        let rows = try #require(object["benchmarks"] as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?["id"] as? String == "pipe.round-trip")
        let swift = try #require(rows.first?["swift"] as? [String: Any])
        #expect((swift["median"] as? Double ?? 0) > 0)
        if BenchmarkCommand.pythonVersion("python3") != nil {
            let python = try #require(rows.first?["python"] as? [String: Any])
            #expect((python["median"] as? Double ?? 0) > 0)
            #expect((rows.first?["ratio_swift_over_python"] as? Double ?? 0) > 0)
        }
        #expect((object["machine"] as? [String: Any])?["cores"] as? Int == ProcessInfo.processInfo.activeProcessorCount)
        #expect(FileManager.default.fileExists(atPath: chartPath))
    }

    @Test("unknown benchmark names are refused")
    func unknownName() {
        #expect(throws: (any Error).self) { try BenchmarkCommand.parse(["--only", "nope"]) }
    }
}

private final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        counts[elementName, default: 0] += 1
    }
}
