#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer (which includes LeakSanitizer) and runs each
# for a while on a copy of its committed corpus.
#   Fuzz/run.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work=Fuzz/.work
mkdir -p "$work"
codec=(Sources/Multiprocessing/Codec/*.swift Sources/Multiprocessing/Errors/CodecError.swift)
# -package-name: the sources use `package` declarations, shared with the package's other modules.
flags=(-swift-version 6 -enable-upcoming-feature ExistentialAny -sanitize=fuzzer,address -parse-as-library -O
    -package-name swift_multiprocessing)

swiftc "${flags[@]}" "${codec[@]}" Fuzz/FuzzDecoder.swift -o "$work/fuzz-decoder"
swiftc "${flags[@]}" Sources/Multiprocessing/Connection/FrameFormat.swift Fuzz/FuzzFrameReader.swift \
    -o "$work/fuzz-frames"
manager=(
    Sources/Multiprocessing/Manager/ManagerProtocol.swift Sources/Multiprocessing/Manager/HostedObject.swift
    Sources/Multiprocessing/Manager/ManagedObject.swift Sources/Multiprocessing/Errors/ManagerError.swift
    Sources/Multiprocessing/Internal/ProtectedState.swift
)
swiftc "${flags[@]}" "${codec[@]}" "${manager[@]}" Fuzz/FuzzManagerRequest.swift -o "$work/fuzz-manager"

for target in decoder frames manager; do
    rm -rf "$work/corpus-$target"
    cp -r "Fuzz/corpus/$target" "$work/corpus-$target"
    echo "== fuzzing $target for ${seconds}s"
    "$work/fuzz-$target" -max_total_time="$seconds" -detect_leaks=1 -print_final_stats=1 \
        "$work/corpus-$target" 2>&1 | tail -n 12
done
