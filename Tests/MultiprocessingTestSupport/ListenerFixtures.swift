public import Multiprocessing

/// A client in another process: connects to `address` with `key`, sends `greeting`, and returns
/// the number the listener answers, or the code of the error that stopped it.
public struct ConnectingClientTask: ParallelTask {
    public var address: ConnectionAddress
    public var key: [UInt8]?
    public var greeting: String
    public init(address: ConnectionAddress, key: [UInt8]?, greeting: String) {
        self.address = address
        self.key = key
        self.greeting = greeting
    }

    public func run() async -> String {
        do {
            let connection = try await Connection.connect(to: address, authenticationKey: key, timeout: .seconds(120))
            try await connection.send(greeting)
            let answer = try await connection.receive(Int.self)
            connection.close()
            return "answer \(answer)"
        } catch let error as ConnectionError {
            return "error \(error.code)"
        } catch {
            return "error \(error)"
        }
    }
}
