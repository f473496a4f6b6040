/// A descriptor with exactly one owner, closed exactly once: when the owner consumes it with
/// ``close()``, or when the owner goes away. Being `~Copyable`, it cannot be duplicated by accident,
/// so two pieces of bookkeeping can never both believe they must close it (a double close traps in
/// ``system_close(_:)``, and closing a reused number would close someone else's file).
struct OwnedDescriptor: ~Copyable, Sendable {
    let rawValue: CInt

    /// Takes ownership of `rawValue`.
    init(adopting rawValue: CInt) {
        self.rawValue = rawValue
    }

    /// Closes the descriptor now.
    consuming func close() {
        system_close(rawValue)
        discard self
    }

    /// Gives up ownership without closing; the caller is responsible for the number from now on.
    consuming func release() -> CInt {
        let rawValue = rawValue
        discard self
        return rawValue
    }

    deinit {
        system_close(rawValue)
    }
}
