import Foundation

/// Draws a report as an SVG bar chart: one bar per benchmark showing how many times better Swift is
/// than CPython, on a log scale (the advantages span from about 1× to over 100×), with both medians
/// written beside each bar.
struct SVGChart {
    var report: BenchmarkReport

    private let width = 1000.0
    private let labelWidth = 330.0
    private let plotRight = 940.0
    private let rowHeight = 38.0
    private let top = 92.0

    var svg: String {
        let rows = report.results
        let advantages = rows.compactMap(\.swiftAdvantage)
        let low = pow(10, floor(log10(min(0.5, (advantages.min() ?? 1) / 1.5))))
        let high = pow(10, ceil(log10(max(2, (advantages.max() ?? 1) * 1.5))))
        let height = top + Double(rows.count) * rowHeight + 56
        func x(_ value: Double) -> Double {
            labelWidth + (log10(value) - log10(low)) / (log10(high) - log10(low)) * (plotRight - labelWidth)
        }
        var parts: [String] = []
        parts.append(
            """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="20" y="28" font-size="19" font-weight="bold">swift-multiprocessing vs CPython multiprocessing</text>
            <text x="20" y="50" font-size="12" fill="#444">\(escape(machineLine))</text>
            <text x="20" y="66" font-size="12" fill="#444">\(escape(methodLine))</text>
            """
        )
        // Decade grid lines and the parity line at 1×.
        var tick = low
        while tick <= high * 1.0001 {
            let position = x(tick)
            let label = tick >= 1 ? "\(Int(tick.rounded()))×" : String(format: "%g×", tick)
            parts.append(
                """
                <line x1="\(f(position))" y1="\(f(top - 8))" x2="\(f(position))" y2="\(f(height - 44))" \
                stroke="\(tick == 1 ? "#222" : "#ddd")" stroke-width="\(tick == 1 ? 1.5 : 1)"/>
                <text x="\(f(position))" y="\(f(height - 28))" font-size="11" text-anchor="middle" fill="#444">\(label)</text>
                """
            )
            tick *= 10
        }
        parts.append(
            """
            <text x="\(f((labelWidth + plotRight) / 2))" y="\(f(height - 10))" font-size="12" text-anchor="middle" \
            fill="#444">Swift advantage (× better than CPython; log scale; right of 1× Swift wins)</text>
            """
        )
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            parts.append(
                """
                <text x="\(f(labelWidth - 10))" y="\(f(y + 15))" font-size="12" text-anchor="end">\(escape(row.metric.label))</text>
                """
            )
            let detail = [
                row.swift.map { "Swift \(format($0.median)) \(row.metric.unit)" },
                row.python.map { "CPython \(format($0.median)) \(row.metric.unit)" },
            ].compactMap { $0 }.joined(separator: " · ")
            guard let advantage = row.swiftAdvantage else {
                parts.append(
                    """
                    <text x="\(f(x(1) + 6))" y="\(f(y + 15))" font-size="11" fill="#666">\(escape(detail)) (no CPython figure)</text>
                    """
                )
                continue
            }
            let start = min(x(1), x(advantage))
            let barWidth = max(1, abs(x(advantage) - x(1)))
            let color = advantage >= 1 ? "#F05138" : "#3776AB"
            parts.append(
                """
                <rect x="\(f(start))" y="\(f(y + 3))" width="\(f(barWidth))" height="16" fill="\(color)"/>
                <text x="\(f(max(x(1), x(advantage)) + 6))" y="\(f(y + 16))" font-size="12" font-weight="bold">\
                \(String(format: "%.2f×", advantage))</text>
                <text x="\(f(labelWidth - 10))" y="\(f(y + 30))" font-size="10" text-anchor="end" fill="#666">\(escape(detail))</text>
                """
            )
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    private var machineLine: String {
        let machine = report.machine
        return "\(machine.cores) cores, \(machine.memoryBytes >> 30) GiB, \(machine.operatingSystem); "
            + "\(machine.swiftVersion); Python \(machine.pythonVersion ?? "missing")"
    }

    private var methodLine: String {
        "median of \(report.repetitions) alternating runs per side\(report.quick ? " (--quick sizes)" : ""); "
            + ISO8601DateFormatter().string(from: report.date)
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
