/// Summary statistics of repeated measurements.
struct SampleSummary: Equatable {
    var samples: [Double]
    var median: Double
    var minimum: Double
    var maximum: Double

    /// `nil` for no samples.
    init?(_ samples: [Double]) {
        let sorted = samples.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return nil }
        self.samples = samples
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        minimum = sorted.first!
        maximum = sorted.last!
    }

    /// The spread as a fraction of the median: (max − min) / median.
    var relativeSpread: Double { median == 0 ? 0 : (maximum - minimum) / median }
}

/// Which direction of a metric is better.
enum Direction: String {
    case lower, higher

    /// How many times better `value` is than `reference` (above 1: `value` wins).
    func advantage(of value: Double, over reference: Double) -> Double? {
        guard value > 0, reference > 0, value.isFinite, reference.isFinite else { return nil }
        return self == .lower ? reference / value : value / reference
    }
}
