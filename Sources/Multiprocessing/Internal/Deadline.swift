/// A point on the monotonic clock after which a wait gives up; `nil` means never.
@usableFromInline
struct Deadline: Sendable {
    let instant: ContinuousClock.Instant?

    @usableFromInline
    init(timeout: Duration?) {
        instant = timeout.map { ContinuousClock.now.advanced(by: max($0, .zero)) }
    }

    init(instant: ContinuousClock.Instant?) {
        self.instant = instant
    }

    @usableFromInline
    static let never = Deadline(instant: nil)

    /// Milliseconds left for `poll(2)`: -1 for no deadline, rounded up so a wait never ends early.
    var pollTimeout: CInt {
        guard let instant else { return -1 }
        let left = ContinuousClock.now.duration(to: instant)
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return CInt(clamping: milliseconds)
    }

    /// The time left (never negative), or `nil` for no deadline.
    var remaining: Duration? {
        instant.map { max(.zero, ContinuousClock.now.duration(to: $0)) }
    }

    var hasPassed: Bool {
        guard let instant else { return false }
        return ContinuousClock.now >= instant
    }
}
