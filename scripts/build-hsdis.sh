#!/usr/bin/env bash
# Builds a HotSpot disassembler plugin (hsdis-amd64.so) from the system's LLVM, so that the JIT's machine code for a
# kernel can be read:
#   scripts/build-hsdis.sh                      # writes target/hsdis/hsdis-amd64.so
#   LD_LIBRARY_PATH=target/hsdis java -XX:+UnlockDiagnosticVMOptions \
#       -XX:CompileCommand=print,dev.gale.backends.cpu.GemmKernel::micro12 ...
# Needs gcc and a libLLVM shared library (Debian: apt-get install gcc libllvm15; any of 14 to 19 works).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLVM="$(ls /usr/lib/x86_64-linux-gnu/libLLVM-1[4-9].so.1 /usr/lib/x86_64-linux-gnu/libLLVM.so.1[4-9]* 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "$LLVM" ]]; then
  echo "build-hsdis: no libLLVM found under /usr/lib/x86_64-linux-gnu; install one: apt-get install libllvm15" >&2
  exit 1
fi
mkdir -p "$ROOT/target/hsdis"
gcc -shared -fPIC -O2 -o "$ROOT/target/hsdis/hsdis-amd64.so" "$ROOT/scripts/hsdis/hsdis-llvm.c" "$LLVM" \
  -Wl,-rpath,"$(dirname "$LLVM")"
echo "$ROOT/target/hsdis/hsdis-amd64.so (over $LLVM)"
