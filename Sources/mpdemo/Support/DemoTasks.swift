import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// The deck's `Fibonacci_driver`: fib(1) = 0, fib(2) = 1, computed the slow recursive way on purpose.
func fibonacci(_ n: Int) -> Int {
    n <= 1 ? 0 : n == 2 ? 1 : fibonacci(n - 1) + fibonacci(n - 2)
}

/// The deck's `Fibonacci(n)`: computes and prints `Fib n is …`.
struct FibonacciTask: ParallelTask {
    var n: Int
    var quiet: Bool

    func run() -> Int {
        let value = fibonacci(n)
        if !quiet { printLine("Fib \(n) is \(value)") }
        return value
    }
}

/// Prints one line; `print` locks stdout for the whole call, so lines from parallel threads never
/// interleave.
func printLine(_ text: String) {
    print(text)
}

/// Does nothing: what process start-up costs on its own.
struct EmptyTask: ParallelTask {
    func run() -> NoOutput { NoOutput() }
}
