import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Memory that several processes map at once: Python's `multiprocessing.shared_memory.SharedMemory`.
///
/// ```swift
/// let segment = try SharedMemory(byteCount: 1 << 20)          // anonymous (memfd)
/// segment.bytes.storeBytes(of: 42, as: Int.self)
/// let child = ChildProcess(running: ReadFirstInt(segment: segment))   // crosses as a descriptor
/// ```
///
/// An anonymous segment (`memfd_create`) reaches another process by inheritance (fork) or inside
/// a task's or a message's `Codable` value, where it crosses as its descriptor (`SCM_RIGHTS`), never
/// as a copy: a 256 MiB segment reaches a child as fast as a 4-byte one. Its memory is released when
/// the last process holding it lets go, crashed ones included: nothing is left in `/dev/shm`.
///
/// A named segment (`shm_open`) lets unrelated processes attach by name. The process that created it
/// owns the name and removes it when its `SharedMemory` goes away (or at ``unlink()``), also when an
/// initializer fails half-way; processes already attached keep the memory until they let go.
///
/// The memory starts zeroed. Concurrent access needs a lock or atomics: see ``SharedValue``,
/// ``SharedArray`` and ``ProcessLock``.
public final class SharedMemory: @unchecked Sendable {
    /// The size of the mapping, in bytes.
    public let byteCount: Int
    /// The name other processes attach with, for a named segment; `nil` for an anonymous one.
    public let name: String?

    private let base: UnsafeMutableRawPointer
    private let descriptor: OwnedDescriptor
    private let ownsName: ProtectedState<Bool>

    // MARK: - Creating and attaching

    /// Creates an anonymous segment of `byteCount` zeroed bytes (`memfd_create`).
    ///
    /// - Throws: ``SharedMemoryError`` `.invalidArgument` for a size below 1, `.systemCallFailed`
    ///   (`EMFILE`, `ENOMEM`).
    public convenience init(byteCount: Int) throws(SharedMemoryError) {
        try Self.checkSize(byteCount)
        let fd: CInt
        do throws(SystemCallError) { fd = try system_memfd_create("swift-multiprocessing") } catch {
            throw SharedMemoryError(error, "creating a \(byteCount)-byte segment")
        }
        let owner = OwnedDescriptor(adopting: fd)
        do throws(SystemCallError) {
            try system_ftruncate(fd, byteCount)
            // Sealed: no process it reaches can shrink it under another's mapping (SIGBUS).
            try system_seal_size(fd)
        } catch {
            throw SharedMemoryError(error, "sizing a segment to \(byteCount) bytes")
        }
        try self.init(mapping: owner, byteCount: byteCount, name: nil, ownsName: false)
    }

    /// Creates a named segment that other processes can attach to by `name` (`shm_open` with
    /// `O_CREAT | O_EXCL`). This process owns the name and removes it when the segment goes away.
    ///
    /// - Parameters:
    ///   - name: Letters, digits, `.`, `_`, `-`; a leading `/` is optional (Python's `name`).
    ///   - byteCount: The size, at least 1.
    /// - Throws: ``SharedMemoryError`` `.alreadyExists`, `.invalidArgument`, `.systemCallFailed`.
    public convenience init(creatingName name: String, byteCount: Int) throws(SharedMemoryError) {
        try Self.checkSize(byteCount)
        let path = try Self.path(for: name)
        let fd: CInt
        do throws(SystemCallError) {
            fd = try system_shm_open(path, flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o600)
        } catch {
            throw SharedMemoryError(error, "creating the segment '\(path)'")
        }
        let owner = OwnedDescriptor(adopting: fd)
        do throws(SystemCallError) { try system_ftruncate(fd, byteCount) } catch {
            try? system_shm_unlink(path)
            throw SharedMemoryError(error, "sizing '\(path)' to \(byteCount) bytes")
        }
        do {
            try self.init(mapping: owner, byteCount: byteCount, name: path, ownsName: true)
        } catch {
            try? system_shm_unlink(path)
            throw error
        }
    }

    /// Attaches to a named segment another process created (`shm_open` without `O_CREAT`).
    ///
    /// - Parameters:
    ///   - name: The name it was created with.
    ///   - byteCount: The size expected; `nil` maps the whole segment. A segment smaller than this is
    ///     refused with `.sizeMismatch` rather than mapped and faulted on later.
    /// - Throws: ``SharedMemoryError`` `.notFound`, `.sizeMismatch`, `.invalidArgument`.
    public convenience init(attachingName name: String, byteCount: Int? = nil) throws(SharedMemoryError) {
        let path = try Self.path(for: name)
        let fd: CInt
        do throws(SystemCallError) { fd = try system_shm_open(path, flags: O_RDWR, mode: 0) } catch {
            throw SharedMemoryError(error, "attaching to '\(path)'")
        }
        let owner = OwnedDescriptor(adopting: fd)
        let size = try Self.size(of: fd, expected: byteCount, what: "'\(path)'")
        try self.init(mapping: owner, byteCount: size, name: path, ownsName: false)
    }

    /// Maps `descriptor` (a memfd or a shared-memory object) of at least `byteCount` bytes.
    init(
        mapping descriptor: consuming OwnedDescriptor,
        byteCount: Int,
        name: String?,
        ownsName: Bool
    ) throws(SharedMemoryError) {
        let fd = descriptor.rawValue
        do throws(SystemCallError) { base = try system_map_shared(fd, byteCount) } catch {
            throw SharedMemoryError(error, "mapping \(byteCount) bytes")
        }
        self.descriptor = descriptor
        self.byteCount = byteCount
        self.name = name
        self.ownsName = ProtectedState(ownsName)
    }

    deinit {
        system_munmap(base, byteCount)
        if let name, ownsName.withLock({ $0 }) { try? system_shm_unlink(name) }
    }

    // MARK: - Using

    /// The mapped bytes. Every process sees its own address.
    ///
    /// - Important: Valid only while this object lives: keep a reference (or use
    ///   `withExtendedLifetime`) for as long as you use the pointer, since the mapping goes with it.
    ///   A named segment can be shrunk by any process that can open it, and access past its new end
    ///   faults (`SIGBUS`); anonymous segments are sealed against that.
    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base, count: byteCount)
    }

    /// Removes the name of a named segment now, so no further process can attach; the memory stays
    /// mapped for those holding it. Python's `SharedMemory.unlink()`. Does nothing for an anonymous
    /// segment or a name already removed.
    ///
    /// - Throws: ``SharedMemoryError/Code-swift.struct/systemCallFailed``.
    public func unlink() throws(SharedMemoryError) {
        guard let name else { return }
        let owned = ownsName.withLock { owned in
            defer { owned = false }
            return owned
        }
        do throws(SystemCallError) { try system_shm_unlink(name) } catch
            where !owned && error.errno == .noSuchFileOrDirectory
        {
            return
        } catch {
            throw SharedMemoryError(error, "removing '\(name)'")
        }
    }

    /// The descriptor behind the mapping, for passing it on (the carrier duplicates it in transit).
    var rawDescriptor: CInt { descriptor.rawValue }

    // MARK: - Checks

    static func checkSize(_ byteCount: Int) throws(SharedMemoryError) {
        guard byteCount > 0 else {
            throw SharedMemoryError(.invalidArgument, "a segment needs at least 1 byte, not \(byteCount)")
        }
    }

    /// The size of the segment behind `fd`, checked against what the caller expects.
    static func size(of fd: CInt, expected: Int?, what: String) throws(SharedMemoryError) -> Int {
        let actual: Int
        do throws(SystemCallError) { actual = try system_file_size(fd) } catch {
            throw SharedMemoryError(error, "reading the size of \(what)")
        }
        if let expected {
            try checkSize(expected)
            guard actual >= expected else {
                throw SharedMemoryError(.sizeMismatch, "\(what) holds \(actual) bytes; \(expected) were expected")
            }
            return expected
        }
        guard actual > 0 else { throw SharedMemoryError(.sizeMismatch, "\(what) is empty") }
        return actual
    }

    /// `/name` for `shm_open`, refusing names it would reject or read as a path.
    private static func path(for name: String) throws(SharedMemoryError) -> String {
        let bare = name.hasPrefix("/") ? String(name.dropFirst()) : name
        let allowed = bare.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard !bare.isEmpty, bare.utf8.count <= 250, allowed, bare != ".", bare != ".." else {
            throw SharedMemoryError(
                .invalidArgument,
                "'\(name)' is not a segment name: use 1 to 250 letters, digits, '.', '_' or '-'"
            )
        }
        return "/" + bare
    }
}
