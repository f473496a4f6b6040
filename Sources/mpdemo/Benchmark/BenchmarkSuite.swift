import Multiprocessing

/// One row of the comparison: a Swift figure and the CPython figure it is compared with.
struct Metric {
    /// Stable identifier, e.g. `pipe.round_trip`.
    var id: String
    var label: String
    var unit: String
    var direction: Direction
    /// Key of the Swift figure in the group's result.
    var swiftKey: String
    /// Path of the Python figure in the script's JSON (`nil`: Swift only).
    var pythonPath: [String]?
}

/// Benchmarks that run together: one Swift measurement and one Python script give several metrics.
struct BenchmarkGroup {
    var name: String
    var metrics: [Metric]
    var runSwift: () throws -> [String: Double]
    var pythonScript: String
    var pythonArguments: [String]
    /// Runs the peer another way than `python script arguments --json` (under `mpirun`, or a C
    /// program); given the Python interpreter.
    var runPeer: ((String) throws -> [String: Any])? = nil
}

/// Sizes for a run; `--quick` shrinks them so the whole run fits in two minutes on two cores.
struct BenchmarkSizes {
    var fibonacciN: Int
    var fibonacciTasks: Int
    var processStarts: Int
    var roundTrips: Int
    var messages: Int
    var sharedIncrements: Int
    var sharedArrayMiB: Int
    var queueCounts: [Int]
    var tinyTasks: Int
    var managerOperations: Int

    static let quick = BenchmarkSizes(
        fibonacciN: 27,
        fibonacciTasks: 4,
        processStarts: 5,
        roundTrips: 2000,
        messages: 100_000,
        sharedIncrements: 200_000,
        sharedArrayMiB: 64,
        queueCounts: [10_000, 100_000],
        tinyTasks: 5_000,
        managerOperations: 2_000
    )
    static let full = BenchmarkSizes(
        fibonacciN: 35,
        fibonacciTasks: 5,
        processStarts: 20,
        roundTrips: 10_000,
        messages: 1_000_000,
        sharedIncrements: 1_000_000,
        sharedArrayMiB: 256,
        queueCounts: [10_000, 100_000, 1_000_000],
        tinyTasks: 20_000,
        managerOperations: 10_000
    )
}

enum BenchmarkSuite {
    static func groups(_ sizes: BenchmarkSizes) -> [BenchmarkGroup] {
        [
            BenchmarkGroup(
                name: "speed-test",
                metrics: [
                    Metric(
                        id: "speed-test.threads",
                        label: "Demo 1: fib(\(sizes.fibonacciN))×\(sizes.fibonacciTasks) threads",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "threads_s",
                        pythonPath: ["threads_s"]
                    ),
                    Metric(
                        id: "speed-test.processes",
                        label: "Demo 1: fib(\(sizes.fibonacciN))×\(sizes.fibonacciTasks) processes",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "processes_s",
                        pythonPath: ["processes_s"]
                    ),
                    Metric(
                        id: "speed-test.sequential",
                        label: "Demo 1: fib(\(sizes.fibonacciN))×\(sizes.fibonacciTasks) sequential",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "sequential_s",
                        pythonPath: ["sequential_s"]
                    ),
                ],
                runSwift: {
                    let result = try SpeedTestMeasurement(
                        n: sizes.fibonacciN,
                        tasks: sizes.fibonacciTasks,
                        quiet: true
                    ).run()
                    return [
                        "threads_s": result.threads, "processes_s": result.processes,
                        "sequential_s": result.sequential,
                    ]
                },
                pythonScript: "speed_test.py",
                pythonArguments: ["--n", "\(sizes.fibonacciN)", "--tasks", "\(sizes.fibonacciTasks)"]
            ),
            BenchmarkGroup(
                name: "process-start",
                metrics: [
                    Metric(
                        id: "process-start.spawn",
                        label: "process start+join: spawn vs spawn",
                        unit: "ms",
                        direction: .lower,
                        swiftKey: "spawn",
                        pythonPath: ["ms_per_process", "spawn"]
                    ),
                    Metric(
                        id: "process-start.forkserver",
                        label: "process start+join: forkServer vs forkserver",
                        unit: "ms",
                        direction: .lower,
                        swiftKey: "forkServer",
                        pythonPath: ["ms_per_process", "forkserver"]
                    ),
                    Metric(
                        id: "process-start.forkserver-vs-fork",
                        label: "process start+join: forkServer vs fork",
                        unit: "ms",
                        direction: .lower,
                        swiftKey: "forkServer",
                        pythonPath: ["ms_per_process", "fork"]
                    ),
                    Metric(
                        id: "process-start.fork",
                        label: "process start+join: fork vs fork",
                        unit: "ms",
                        direction: .lower,
                        swiftKey: "fork",
                        pythonPath: ["ms_per_process", "fork"]
                    ),
                ],
                runSwift: {
                    let result = try ProcessStartMeasurement(count: sizes.processStarts).run()
                    return ["spawn": result.spawn, "forkServer": result.forkServer, "fork": result.fork]
                },
                pythonScript: "process_start.py",
                pythonArguments: ["--count", "\(sizes.processStarts)"]
            ),
            BenchmarkGroup(
                name: "pipe",
                metrics: [
                    Metric(
                        id: "pipe.round-trip",
                        label: "connection round trip (small Int)",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "round_trip_us",
                        pythonPath: ["round_trip_us"]
                    ),
                    Metric(
                        id: "pipe.async-round-trip",
                        label: "awaited round trip (small Int) vs Python's blocking",
                        unit: "µs",
                        direction: .lower,
                        swiftKey: "async_round_trip_us",
                        pythonPath: ["round_trip_us"]
                    ),
                    Metric(
                        id: "pipe.concurrent-awaited-receives",
                        label: "1,000 concurrent awaited receives (Swift only)",
                        unit: "recv/s",
                        direction: .higher,
                        swiftKey: "concurrent_receives",
                        pythonPath: nil
                    ),
                    Metric(
                        id: "pipe.one-way-batched",
                        label: "one way, \(sizes.messages) Ints, batched",
                        unit: "msg/s",
                        direction: .higher,
                        swiftKey: "batched",
                        pythonPath: ["one_way_msgs_per_s"]
                    ),
                    Metric(
                        id: "pipe.one-way-batched-send",
                        label: "one way, \(sizes.messages) Ints, batched send",
                        unit: "msg/s",
                        direction: .higher,
                        swiftKey: "batched_send",
                        pythonPath: ["one_way_msgs_per_s"]
                    ),
                    Metric(
                        id: "pipe.one-way",
                        label: "one way, \(sizes.messages) Ints, send per message",
                        unit: "msg/s",
                        direction: .higher,
                        swiftKey: "per_message",
                        pythonPath: ["one_way_msgs_per_s"]
                    ),
                    Metric(
                        id: "pipe.bandwidth",
                        label: "1 MiB frames bandwidth",
                        unit: "MB/s",
                        direction: .higher,
                        swiftKey: "bandwidth_mb_s",
                        pythonPath: ["bandwidth_mb_s"]
                    ),
                    Metric(
                        id: "pipe.memcpy",
                        label: "memcpy of 1 MiB (reference)",
                        unit: "MB/s",
                        direction: .higher,
                        swiftKey: "memcpy_mb_s",
                        pythonPath: ["memcpy_mb_s"]
                    ),
                ],
                runSwift: {
                    let pipe = PipeMeasurements(roundTrips: sizes.roundTrips, messages: sizes.messages, payloadMib: 1)
                    let (perMessage, batchedSend, batched) = try pipe.oneWay()
                    let async = try AsyncMeasurements(roundTrips: sizes.roundTrips, concurrentReceivers: 1000)
                        .measureInChild()
                    return [
                        "round_trip_us": try pipe.roundTrip(),
                        "async_round_trip_us": async.roundTrip,
                        "concurrent_receives": async.concurrentReceives,
                        "per_message": perMessage,
                        "batched": batched,
                        "batched_send": batchedSend,
                        "bandwidth_mb_s": try pipe.bandwidth(),
                        "memcpy_mb_s": measureMemcpy(byteCount: 1 << 20, repetitions: pipe.repetitions),
                    ]
                },
                pythonScript: "pipe.py",
                pythonArguments: [
                    "--round-trips", "\(sizes.roundTrips)", "--messages", "\(sizes.messages)",
                    "--payload-mib", "1",
                ]
            ),
            BenchmarkGroup(
                name: "shared-memory",
                metrics: [
                    Metric(
                        id: "shared.locked-increments",
                        label: "SharedValue increments under its lock, 2 processes",
                        unit: "ops/s",
                        direction: .higher,
                        swiftKey: "locked_increments",
                        pythonPath: ["locked_increments_per_s"]
                    ),
                    Metric(
                        id: "shared.uncontended-lock",
                        label: "uncontended lock + unlock",
                        unit: "ops/s",
                        direction: .higher,
                        swiftKey: "uncontended_lock",
                        pythonPath: ["uncontended_lock_per_s"]
                    ),
                    Metric(
                        id: "shared.bandwidth",
                        label: "shared array: write then read 16 MiB",
                        unit: "MB/s",
                        direction: .higher,
                        swiftKey: "bandwidth_mb_s",
                        pythonPath: ["bandwidth_mb_s"]
                    ),
                    Metric(
                        id: "shared.big-array-pickled",
                        label: "\(sizes.sharedArrayMiB) MiB to a child task, summed: vs pickled",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "big_array_s",
                        pythonPath: ["big_array_pickled_s"]
                    ),
                    Metric(
                        id: "shared.big-array-shared-memory",
                        label: "\(sizes.sharedArrayMiB) MiB to a child task, summed: vs SharedMemory",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "big_array_s",
                        pythonPath: ["big_array_shared_memory_s"]
                    ),
                    Metric(
                        id: "shared.hand-off-pickled",
                        label: "\(sizes.sharedArrayMiB) MiB to a running process, count back: vs pickled",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "hand_off_s",
                        pythonPath: ["hand_off_pickled_s"]
                    ),
                    Metric(
                        id: "shared.hand-off-shared-memory",
                        label: "\(sizes.sharedArrayMiB) MiB to a running process, count back: vs SharedMemory",
                        unit: "s",
                        direction: .lower,
                        swiftKey: "hand_off_s",
                        pythonPath: ["hand_off_shared_memory_s"]
                    ),
                ],
                runSwift: {
                    let shared = SharedMemoryMeasurements(
                        increments: sizes.sharedIncrements,
                        lockOperations: 2_000_000,
                        bandwidthMiB: 16,
                        bigArrayMiB: sizes.sharedArrayMiB
                    )
                    return [
                        "locked_increments": try shared.lockedIncrements(),
                        "uncontended_lock": try shared.uncontendedLock(),
                        "bandwidth_mb_s": try shared.bandwidth(),
                        "big_array_s": try shared.bigArrayToChild(),
                        "hand_off_s": try shared.bigArrayHandOff(),
                    ]
                },
                pythonScript: "shared_bench.py",
                pythonArguments: [
                    "--increments", "\(sizes.sharedIncrements)", "--lock-ops", "1000000", "--bandwidth-mib", "16",
                    "--big-mib", "\(sizes.sharedArrayMiB)",
                ]
            ),
            queueGroup(sizes),
            queueTrafficGroup(sizes),
            poolGroup(sizes),
            managerGroup(sizes),
        ] + mpiGroups(sizes)
    }

    #if !MPI
    static func mpiGroups(_ sizes: BenchmarkSizes) -> [BenchmarkGroup] { [] }
    #endif

    /// List appends and dictionary set/get through a manager from two processes, against
    /// `manager_bench.py`.
    static func managerGroup(_ sizes: BenchmarkSizes) -> BenchmarkGroup {
        let count = sizes.managerOperations
        func rate(_ id: String, _ label: String, _ key: String) -> Metric {
            Metric(
                id: "manager.\(id)",
                label: label,
                unit: "ops/s",
                direction: .higher,
                swiftKey: key,
                pythonPath: [key]
            )
        }
        return BenchmarkGroup(
            name: "manager",
            metrics: [
                rate("list-append", "Manager list.append from 2 processes, \(count) each", "list_append_per_s"),
                rate("dict-set-get", "Manager dict set then get from 2 processes, \(count) each", "dict_set_get_per_s"),
            ],
            runSwift: {
                let (appends, setGet) = try ManagerMeasurements.measure(count: count)
                return ["list_append_per_s": appends, "dict_set_get_per_s": setGet]
            },
            pythonScript: "manager_bench.py",
            pythonArguments: ["--count", "\(count)"]
        )
    }

    /// Demo #6: numbers through a queue to a reader process, against `queue_demo.py`.
    static func queueGroup(_ sizes: BenchmarkSizes) -> BenchmarkGroup {
        let largest = sizes.queueCounts.max() ?? 10_000
        var metrics = sizes.queueCounts.map { count in
            Metric(
                id: "queue.demo6.\(count)",
                label: "Demo 6: \(count) numbers, a put and a get each: vs Queue",
                unit: "msg/s",
                direction: .higher,
                swiftKey: "queue_\(count)",
                pythonPath: ["by_kind", "queue", "\(count)"]
            )
        }
        metrics += [
            Metric(
                id: "queue.simple",
                label: "Demo 6: \(largest) numbers, a put and a get each: vs SimpleQueue",
                unit: "msg/s",
                direction: .higher,
                swiftKey: "queue_\(largest)",
                pythonPath: ["by_kind", "simple", "\(largest)"]
            ),
            Metric(
                id: "queue.batched",
                label: "Demo 6: \(largest) numbers in batches: vs Queue",
                unit: "msg/s",
                direction: .higher,
                swiftKey: "batched_\(largest)",
                pythonPath: ["by_kind", "queue", "\(largest)"]
            ),
            Metric(
                id: "queue.pipe",
                label: "Demo 6: \(largest) numbers through a Connection: vs Pipe",
                unit: "msg/s",
                direction: .higher,
                swiftKey: "pipe_\(largest)",
                pythonPath: ["by_kind", "pipe", "\(largest)"]
            ),
        ]
        return BenchmarkGroup(
            name: "queue",
            metrics: metrics,
            runSwift: {
                var figures: [String: Double] = [:]
                for count in sizes.queueCounts {
                    figures["queue_\(count)"] = Double(count) / (try measureQueueRun(kind: .queue, count: count))
                }
                figures["batched_\(largest)"] = Double(largest) / (try measureQueueRun(kind: .batched, count: largest))
                figures["pipe_\(largest)"] = Double(largest) / (try measureQueueRun(kind: .pipe, count: largest))
                return figures
            },
            pythonScript: "queue_demo.py",
            pythonArguments: [
                "--counts", sizes.queueCounts.map(String.init).joined(separator: ","), "--kind", "queue,simple,pipe",
            ]
        )
    }

    /// The queue's round trip and its many-producers, many-consumers rate, against `queue_bench.py`.
    static func queueTrafficGroup(_ sizes: BenchmarkSizes) -> BenchmarkGroup {
        let perProducer = (sizes.queueCounts.max() ?? 10_000) / 4
        return BenchmarkGroup(
            name: "queue-traffic",
            metrics: [
                Metric(
                    id: "queue.round-trip",
                    label: "round trip through two queues to a child and back",
                    unit: "µs",
                    direction: .lower,
                    swiftKey: "round_trip_us",
                    pythonPath: ["round_trip_us"]
                ),
                Metric(
                    id: "queue.many-to-many",
                    label: "4 producer and 4 consumer processes, \(4 * perProducer) messages",
                    unit: "msg/s",
                    direction: .higher,
                    swiftKey: "many_to_many_per_s",
                    pythonPath: ["many_to_many_per_s"]
                ),
            ],
            runSwift: {
                [
                    "round_trip_us": try QueueMeasurements.roundTripMicroseconds(sizes.roundTrips),
                    "many_to_many_per_s": try QueueMeasurements.manyToMany(
                        producers: 4,
                        consumers: 4,
                        perProducer: perProducer
                    ),
                ]
            },
            pythonScript: "queue_bench.py",
            pythonArguments: ["--round-trips", "\(sizes.roundTrips)", "--per-producer", "\(perProducer)"]
        )
    }

    /// Demo #2 and the pool's tiny-task rates and start-up, against `pool_bench.py`.
    static func poolGroup(_ sizes: BenchmarkSizes) -> BenchmarkGroup {
        let tiny = sizes.tinyTasks
        // ThreadPool rows: 16 tasks of a smaller fib, on 2 threads.
        let threadN = sizes.fibonacciN - 3
        let threadTasks = 16
        func threadRow(_ id: String, _ label: String, _ swiftKey: String, python: Bool = false) -> Metric {
            Metric(
                id: "pool.\(id)",
                label: label,
                unit: "s",
                direction: .lower,
                swiftKey: swiftKey,
                pythonPath: python ? ["thread_pool_s"] : nil
            )
        }
        func rate(_ id: String, _ label: String, _ swiftKey: String, _ pythonKey: String) -> Metric {
            Metric(
                id: "pool.\(id)",
                label: label,
                unit: "tasks/s",
                direction: .higher,
                swiftKey: swiftKey,
                pythonPath: [pythonKey]
            )
        }
        return BenchmarkGroup(
            name: "pool",
            metrics: [
                Metric(
                    id: "pool.demo2",
                    label: "Demo 2: Pool(5).map fib(\(sizes.fibonacciN))×5, start to close",
                    unit: "s",
                    direction: .lower,
                    swiftKey: "demo2_s",
                    pythonPath: ["demo2_s"]
                ),
                rate(
                    "tiny-chunk1",
                    "\(tiny) tiny tasks, map with chunks of 1",
                    "tiny_chunk1_per_s",
                    "tiny_chunk1_per_s"
                ),
                rate(
                    "tiny-auto",
                    "\(tiny) tiny tasks, map with automatic chunks",
                    "tiny_auto_per_s",
                    "tiny_auto_per_s"
                ),
                rate(
                    "tiny-auto-bitwise",
                    "\(tiny) tiny tasks, automatic chunks, task declared BitwiseCodable",
                    "tiny_auto_bitwise_per_s",
                    "tiny_auto_per_s"
                ),
                rate(
                    "tiny-submit",
                    "\(tiny) tiny tasks, submit each: vs ProcessPoolExecutor",
                    "tiny_submit_per_s",
                    "tiny_submit_per_s"
                ),
                threadRow(
                    "thread-pool",
                    "ThreadPool(2).map fib(\(threadN))×\(threadTasks) vs Python ThreadPool",
                    "thread_pool_s",
                    python: true
                ),
                threadRow("task-group", "the same work in withTaskGroup (Swift only)", "task_group_s"),
                threadRow(
                    "concurrent-perform",
                    "the same work in DispatchQueue.concurrentPerform (Swift only)",
                    "concurrent_perform_s"
                ),
                Metric(
                    id: "pool.thread-pool-over-fastest",
                    label: "ThreadPool.map time ÷ the faster of the two (aim ≤ 1.5)",
                    unit: "×",
                    direction: .lower,
                    swiftKey: "thread_pool_over_fastest",
                    pythonPath: nil
                ),
                Metric(
                    id: "pool.startup-spawn",
                    label: "pool of 2: start, one result, close: spawn vs spawn",
                    unit: "s",
                    direction: .lower,
                    swiftKey: "pool_startup_spawn_s",
                    pythonPath: ["pool_startup_s", "spawn"]
                ),
                Metric(
                    id: "pool.startup-forkserver",
                    label: "pool of 2: start, one result, close: forkServer vs forkserver",
                    unit: "s",
                    direction: .lower,
                    swiftKey: "pool_startup_forkserver_s",
                    pythonPath: ["pool_startup_s", "forkserver"]
                ),
                Metric(
                    id: "pool.startup-forkserver-vs-fork",
                    label: "pool of 2: start, one result, close: forkServer vs fork",
                    unit: "s",
                    direction: .lower,
                    swiftKey: "pool_startup_forkserver_s",
                    pythonPath: ["pool_startup_s", "fork"]
                ),
            ],
            runSwift: {
                let threads = try ThreadPoolMeasurements.measure(n: threadN, count: threadTasks, workers: 2)
                return [
                    "thread_pool_s": threads.threadPool,
                    "task_group_s": threads.taskGroup,
                    "concurrent_perform_s": threads.concurrentPerform,
                    "thread_pool_over_fastest": threads.threadPool / min(threads.taskGroup, threads.concurrentPerform),
                    "demo2_s": try PoolDemo.measure(n: sizes.fibonacciN, workers: 5, tasks: 5).seconds,
                    "tiny_chunk1_per_s": try PoolMeasurements.tinyMap(count: tiny, chunkSize: 1),
                    "tiny_auto_per_s": try PoolMeasurements.tinyMap(count: tiny, chunkSize: nil),
                    "tiny_auto_bitwise_per_s": try PoolMeasurements.tinyMap(count: tiny, chunkSize: nil, bitwise: true),
                    "tiny_submit_per_s": try PoolMeasurements.tinySubmit(count: tiny),
                    "pool_startup_spawn_s": try PoolMeasurements.startup(startMethod: .spawn),
                    "pool_startup_forkserver_s": try PoolMeasurements.startup(startMethod: .forkServer),
                ]
            },
            pythonScript: "pool_bench.py",
            pythonArguments: [
                "--n", "\(sizes.fibonacciN)", "--tiny", "\(tiny)", "--thread-n", "\(threadN)",
                "--thread-tasks", "\(threadTasks)",
            ]
        )
    }
}
