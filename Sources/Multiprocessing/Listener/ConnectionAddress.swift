import _CMultiprocessingShims

/// Where a ``ConnectionListener`` listens and `Connection.connect(to:authenticationKey:timeout:)`
/// connects: Python's `multiprocessing.connection` address and family in one value.
public enum ConnectionAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A Unix-domain socket at a file-system path (Python's `AF_UNIX`). The listener removes the
    /// file when it closes.
    case unixPath(String)
    /// A Linux abstract Unix-domain name (Python's addresses that start with `"\0"`): no file is
    /// created, and the name is free again when the listener closes.
    case abstract(String)
    /// TCP (Python's `AF_INET`): a host name or numeric IPv4/IPv6 address, and a port; a listener
    /// given port 0 picks a free one (read it back from ``ConnectionListener/address``).
    case tcp(host: String, port: UInt16)

    /// A new abstract name no other listener uses: Python's `arbitrary_address('AF_UNIX')`.
    public static func uniqueAbstract() -> ConnectionAddress {
        let random = UInt64.random(in: 0...UInt64.max)
        return .abstract("swift-multiprocessing-\(system_getpid())-\(String(random, radix: 36))")
    }

    public var description: String {
        switch self {
        case .unixPath(let path): path
        case .abstract(let name): "@\(name)"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// The C shim's kind, name and port.
    var socketParameters: (kind: CInt, name: String, port: UInt16) {
        switch self {
        case .unixPath(let path): (MPSHIM_ADDRESS_UNIX_PATH, path, 0)
        case .abstract(let name): (MPSHIM_ADDRESS_ABSTRACT, name, 0)
        case .tcp(let host, let port): (MPSHIM_ADDRESS_TCP, host, port)
        }
    }
}
