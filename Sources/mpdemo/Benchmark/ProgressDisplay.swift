import Foundation

/// Shows which benchmark runs: one rewritten line on a terminal, plain lines otherwise.
final class ProgressDisplay {
    private let isTerminal = isatty(STDOUT_FILENO) == 1
    private let start = ContinuousClock.now
    private let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func update(step: Int, of total: Int, _ what: String) {
        guard enabled else { return }
        let elapsed = Int((ContinuousClock.now - start).components.seconds)
        let text = String(format: "[%d/%d] %@  (%d:%02d elapsed)", step, total, what, elapsed / 60, elapsed % 60)
        if isTerminal {
            print("\r\u{1B}[2K" + text, terminator: "")
        } else {
            print(text)
        }
        fflush(nil)
    }

    func finish() {
        guard enabled, isTerminal else { return }
        print("\r\u{1B}[2K", terminator: "")
        fflush(nil)
    }
}
