#!/usr/bin/env python3
"""The PyTorch side of `gale bench`: training-step time (forward, backward, Adam step) and peak resident memory.

Trains the model of a folder written by scripts/export_bench_models.py (the same architecture and initial weights as
the ONNX file Gale trains) on the same batch, with torch.set_num_threads(THREADS) and subnormals flushed to zero
(torch.set_flush_denormal, as Gale's kernels flush them), giving PyTorch its best setup on Debian:
  - OpenBLAS instead of the reference BLAS (LD_LIBRARY_PATH pointing at OpenBLAS's libblas.so.3, no change to the
    system's alternatives), and its OpenMP build: PyTorch parallelizes its own ops with OpenMP, and OpenBLAS's
    OpenMP build runs its GEMMs on that same pool. The pthread build brings a second pool whose threads spin after
    each call, so two pools of THREADS threads fight for THREADS cores: on 2 cores, steps of whole blocks ran 5x
    slower (MLP 784-256-10: 8 ms instead of 1.4) and the medians were 1.2-1.5x slower (transformer layer 8.7 ms
    against 6.2, MLP 1024-4096-4096-1024 at batch 64 247 ms against 170).
  - jemalloc (LD_PRELOAD) that keeps the pages it frees (MALLOC_CONF dirty_decay_ms:-1,muzzy_decay_ms:-1, unless
    MALLOC_CONF is set already). PyTorch frees and re-allocates its activations, gradients and Adam's temporaries on
    every step; with jemalloc's default decay the pages go back to the kernel and every step faults them in again
    (MLP 1024-4096-4096-1024 at batch 64: 170 ms against 114).
The script re-executes itself with these when they are installed and not yet loaded, and reports which BLAS and
allocator the process really mapped (/proc/self/maps) and the allocator's settings.

Two ways to run it:
  python3 scripts/bench_pytorch.py DIR --batch B --threads T --steps N   N timed steps, one summary line
  python3 scripts/bench_pytorch.py DIR --batch B --threads T --serve     the protocol `gale bench` drives:
      prints   ready<TAB>key=value...     once set up (torch version, blas, allocator, rss_kb)
      reads    step N    -> times<TAB>t1 ... tN    seconds per step, timed inside this process
               mem       -> mem<TAB>hwm_kb<TAB>rss_kb   (VmHWM and VmRSS of /proc/self/status)
               quit
"""
import argparse
import os
import sys

# The OpenMP build first (one thread pool with PyTorch's own), then the others.
OPENBLAS_DIRS = ["/usr/lib/x86_64-linux-gnu/openblas-openmp", "/usr/lib/aarch64-linux-gnu/openblas-openmp",
                 "/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/aarch64-linux-gnu/openblas-pthread",
                 "/usr/lib/x86_64-linux-gnu/openblas-serial"]
JEMALLOC = ["/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2"]
INSTALL_HINT = "apt-get install libopenblas0-openmp libjemalloc2"
# Keep freed pages (see the module doc); jemalloc reads this at load time.
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def best_setup(threads):
    """Re-executes this process once with OpenBLAS (its OpenMP build where installed) first on the library path,
    jemalloc preloaded and keeping its pages, and the thread count in the environment (OpenBLAS, OpenMP and jemalloc
    read them at load time)."""
    if os.environ.get("GALE_BENCH_REEXEC") == "1":
        return
    env = dict(os.environ, GALE_BENCH_REEXEC="1", OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    blas = next((d for d in OPENBLAS_DIRS if os.path.exists(os.path.join(d, "libblas.so.3"))), None)
    if blas:
        env["LD_LIBRARY_PATH"] = blas + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    jemalloc = next((j for j in JEMALLOC if os.path.exists(j)), None)
    if jemalloc and "jemalloc" not in env.get("LD_PRELOAD", ""):
        env["LD_PRELOAD"] = jemalloc + (" " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    if jemalloc and "MALLOC_CONF" not in env:
        env["MALLOC_CONF"] = JEMALLOC_CONF
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def mapped_libraries():
    """What the process really loaded: the BLAS behind libblas.so.3 (or OpenBLAS/MKL directly) and the allocator."""
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith("/"):
                paths.add(os.path.realpath(parts[5]))
    blas = sorted(p for p in paths if any(k in os.path.basename(p) for k in ("blas", "mkl_rt", "mkl_core")))
    alloc = sorted(p for p in paths if any(k in os.path.basename(p) for k in ("jemalloc", "tcmalloc", "mimalloc")))
    return blas, alloc


def blas_kind(blas):
    joined = " ".join(blas)
    if "openblas" in joined:
        for build in ("openmp", "pthread", "serial"):
            if "openblas-" + build in joined:
                return "openblas-" + build
        return "openblas"
    if "mkl" in joined:
        return "mkl"
    if blas:
        return "reference"
    return "none"


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def load(folder, batch):
    import numpy as np
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import export_bench_models as models

    props_file = os.path.join(folder, "bench.properties")
    if not os.path.isfile(props_file):
        raise SystemExit(f"bench_pytorch: {folder} is not a model folder (no bench.properties); "
                         "export one with scripts/export_bench_models.py")
    props = dict(line.rstrip("\n").split("=", 1) for line in open(props_file) if "=" in line)
    if props.get("train") != "true":
        raise SystemExit(f"bench_pytorch: {folder} is a forward-only model")
    name = os.path.basename(os.path.normpath(folder))
    model = models.build(name)
    model.load_state_dict(torch.load(os.path.join(folder, "init.pt")))
    model.train()
    data = np.load(os.path.join(folder, f"data-{batch}.npz"))
    inputs = [torch.from_numpy(data[i]) for i in props["inputs"].split(",")]
    y = torch.from_numpy(data["y"])
    loss_fn = torch.nn.CrossEntropyLoss() if props["loss"] == "cross-entropy" else torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, inputs, y, loss_fn, optimizer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a model folder written by scripts/export_bench_models.py")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--serve", action="store_true", help="take commands on stdin (what gale bench does)")
    args = ap.parse_args()
    best_setup(args.threads)

    import time
    import torch
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    # Subnormal floats flushed to zero (x86 FTZ/DAZ), as Gale's kernels treat them: once the model fits its batch
    # the gradients fill with subnormals, and without this every multiply-add that meets one is ~100x slower.
    flush = torch.set_flush_denormal(True)
    model, inputs, y, loss_fn, optimizer = load(args.folder, args.batch)

    def step():
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(*inputs), y)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - t0

    blas, alloc = mapped_libraries()
    kind = blas_kind(blas)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": kind,
            "blas_libs": ",".join(blas) or "-", "allocator": ",".join(alloc) or "glibc malloc",
            "malloc_conf": os.environ.get("MALLOC_CONF", "-") if alloc else "-",
            "flush_denormal": flush, "rss_kb": status_kb("VmRSS")}
    if kind not in ("openblas-openmp", "openblas-serial") or not alloc:
        why = ("OpenBLAS's pthread build adds a second thread pool that competes with PyTorch's OpenMP threads"
               if kind == "openblas-pthread" else f"BLAS: {kind}, allocator: {info['allocator']}")
        info["warning"] = f"PyTorch is not in its best setup ({why}); install: {INSTALL_HINT}"
    if not args.serve:
        if "warning" in info:
            print("bench_pytorch: warning: " + info["warning"], file=sys.stderr)
        for _ in range(args.warmup):
            step()
        times = sorted(step() for _ in range(args.steps))
        print(f"{os.path.basename(os.path.normpath(args.folder))} batch {args.batch}: median step "
              f"{times[len(times) // 2] * 1e3:.3f} ms (min {times[0] * 1e3:.3f}, max {times[-1] * 1e3:.3f}); "
              f"peak RSS {status_kb('VmHWM') / 1024:.1f} MiB; torch {info['torch']}, {info['threads']} threads, "
              f"BLAS {kind} ({info['blas_libs']}), allocator {info['allocator']} (MALLOC_CONF {info['malloc_conf']})")
        return
    print("ready\t" + "\t".join(f"{k}={v}" for k, v in info.items()), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "step":
            times = [step() for _ in range(int(cmd[1]))]
            print("times\t" + " ".join(f"{t:.9f}" for t in times), flush=True)
        elif cmd[0] == "mem":
            print(f"mem\t{status_kb('VmHWM')}\t{status_kb('VmRSS')}", flush=True)
        elif cmd[0] == "quit":
            break
        else:
            print(f"error\tunknown command {cmd[0]}", flush=True)


if __name__ == "__main__":
    main()
