import ArgumentParser

/// The deck's experiments, reproduced in Swift, each optionally next to its Python original.
#if MPI
private let mpiDemos: [any ParsableCommand.Type] = [MPIPingPongDemo.self, MPIPoolRateDemo.self]
#else
private let mpiDemos: [any ParsableCommand.Type] = []
#endif

@main
struct MPDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpdemo",
        abstract: "Reproduce the experiments of \"Parallel Computing in Python\" with swift-multiprocessing.",
        discussion: "Each demo accepts --json (one JSON object of its figures) and --vs-python (runs the Python "
            + "original from Benchmarks/python in the same run and prints both with their ratio).",
        subcommands: [
            SpeedTest.self, MemoryDemo.self, SharedMemoryDemo.self, LockOrderDemo.self, PipeDemo.self, QueueDemo.self,
            PoolDemo.self,
            ProcessStartDemo.self,
            BenchmarkCommand.self,
        ] + mpiDemos
    )
}

/// Options every demo shares.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Print one JSON object of the demo's figures on stdout, and nothing else.")
    var json = false

    @Flag(help: "Also run the Python original of this demo in the same run and compare.")
    var vsPython = false

    @Option(help: "The Python interpreter for --vs-python.")
    var python = "python3"
}
