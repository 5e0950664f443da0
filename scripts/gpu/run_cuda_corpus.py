#!/usr/bin/env python3
"""Runs the CUDA differential corpus (written by scripts/cuda-corpus.sh) and compares with the interpreter's outputs.

    run_cuda_corpus.py CORPUS_DIR [--report FILE.json]            on a GPU machine, with CuPy (NVRTC)
    run_cuda_corpus.py CORPUS_DIR --dry-run                       anywhere, NumPy only: the corpus loads and fits
    run_cuda_corpus.py CORPUS_DIR --host                          anywhere with g++: the kernels run on the CPU

Each case is one kernel (kernels/<kernel>.cu) with its sizes bound: its functions run in the manifest's order, each on
`threads` threads in blocks of --block (grid = ceil(threads / block)), with the case's exact argument list (buffers as
device pointers, <buffer>_off and sizes as int32). A buffer at element offset k gets k leading elements before it and
GUARD after it, filled with a poison value; outputs start as poison everywhere. After the run, each output must match
the expected array (floats within atol + rtol * |expected|, NaN equal to NaN; ints and bools exactly), the poison
around every buffer must be intact and the inputs unchanged.

--dry-run checks without a GPU what the runner relies on: every case's arrays load with the buffers' dtypes and
element counts, every launched function is defined with the parameter list the case passes (names and C types),
the launch geometry, and the comparison itself (a run that writes the expected values passes; a wrong element, a
write outside a buffer and a missing write each fail). --host compiles each kernel with g++ and a small header that
stands in for CUDA's built-ins, and runs every thread of every launch on the CPU: the whole path except the GPU.

A kernel that faults the GPU (an illegal address) leaves CUDA's context unusable, so with CuPy the cases run in a
worker process that is restarted after such a case. A failing case is rerun compiled with --fmad=false and the report
says whether it passes then (a difference that only FMA contraction makes). Prints one line per failure and
`CUDA corpus: P passed, F failed, C failed to compile of T`; exits 1 if any case failed or did not compile.
"""
import argparse
import atexit
import concurrent.futures
import ctypes
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

GUARD = 16
POISON = {"float32": -7.77e37, "float64": -7.77e37, "int32": -1234567, "int64": -1234567, "bool": 0xA5}
C_TYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long", "bool": "unsigned char"}
STORAGE = {"bool": np.uint8}  # bool buffers are unsigned char on the device


# ---- corpus -------------------------------------------------------------------------------------------------------

def load_manifest(corpus):
    with open(os.path.join(corpus, "manifest.json")) as f:
        return json.load(f)


def load_arrays(corpus, case):
    """The case's flat arrays by buffer name: inputs' values and outputs' expected values, with the buffers' dtypes."""
    with np.load(os.path.join(corpus, case["data"])) as z:
        arrays = {k: z[k] for k in z.files}
    for b in case["buffers"]:
        a = arrays.get(b["name"])
        if a is None:
            raise ValueError("no array for buffer %s" % b["name"])
        if a.dtype != np.dtype(b["dtype"]) or a.size != b["count"] or list(a.shape) != [b["count"]]:
            raise ValueError("array %s is %s%s, buffer is %s[%d]"
                             % (b["name"], a.dtype, a.shape, b["dtype"], b["count"]))
    return arrays


def functions(source):
    """{function: ([(C type, parameter name), ...], body)} for every extern "C" __global__ function of a source."""
    r = {}
    matches = list(re.finditer(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)', source))
    for m, after in zip(matches, matches[1:] + [None]):
        params = []
        for p in m.group(2).split(","):
            p = " ".join(p.replace("*", "* ").split())
            ctype, _, name = p.rpartition(" ")
            params.append((ctype.replace(" *", "*"), name))
        r[m.group(1)] = (params, source[m.end():after.start() if after else len(source)])
    return r


def expected_params(case):
    """The parameter list the case's args need: buffer pointers (const for inputs), then ints."""
    buffers = {b["name"]: b for b in case["buffers"]}
    r = []
    for a in case["args"]:
        if a["kind"] == "buffer":
            b = buffers[a["name"]]
            r.append((("" if b["output"] else "const ") + C_TYPES[b["dtype"]] + "*", a["name"]))
        else:
            r.append(("int", a["name"]))
    return r


def check_case(corpus, case, source):
    """Problems with a case that the runner would trip over, as strings (empty when it is fine)."""
    problems = []
    defined = functions(source)
    for launch in case["launches"]:
        f = launch["function"]
        if f not in defined:
            problems.append("function %s is not in %s" % (f, case["source"]))
            continue
        params, body = defined[f]
        if params != expected_params(case):
            problems.append("function %s takes %s, the case passes %s" % (f, params, expected_params(case)))
        if launch["threads"] < 0:
            problems.append("function %s: %d threads" % (f, launch["threads"]))
        if launch["guarded"] != ("if (gid >= " in body):
            problems.append("function %s: the manifest says guarded = %s, the source differs" % (f, launch["guarded"]))
    for a in case["args"]:
        if a["kind"] == "int" and not -2**31 <= a["value"] < 2**31:
            problems.append("int argument %s = %d does not fit int32" % (a["name"], a["value"]))
    return problems


def geometry(threads, block):
    """(grid, block) for a launch of `threads` threads; None when there is nothing to launch."""
    return None if threads <= 0 else ((threads + block - 1) // block, block)


def host_buffers(case, arrays):
    """Padded host arrays in buffer order: poison, the input's values at its offset; outputs all poison."""
    r = []
    for b in case["buffers"]:
        dtype = STORAGE.get(b["dtype"], np.dtype(b["dtype"]))
        a = np.full(b["offset"] + b["count"] + GUARD, POISON[b["dtype"]], dtype=dtype)
        if not b["output"]:
            a[b["offset"]:b["offset"] + b["count"]] = arrays[b["name"]]
        r.append(a)
    return r


def num(x):
    """A number for the JSON report: non-finite floats as strings ("nan", "inf", "-inf"), which JSON lacks."""
    x = x.item() if hasattr(x, "item") else x
    return x if not isinstance(x, float) or math.isfinite(x) else str(x)


def compare(case, arrays, before, after):
    """Failures (dicts) of one run: outputs against expected, poison around buffers, inputs unchanged."""
    failures = []
    for b, x0, x in zip(case["buffers"], before, after):
        lo, hi = b["offset"], b["offset"] + b["count"]
        outside = np.concatenate([np.arange(lo), np.arange(hi, len(x))])
        changed = outside[x[outside] != x0[outside]] if outside.size else outside
        if changed.size:
            i = int(changed[0])
            failures.append({"buffer": b["name"], "kind": "wrote outside the buffer",
                             "first_bad": i - lo, "count": int(changed.size), "actual": num(x[i])})
        if not b["output"]:
            bad = np.nonzero(x[lo:hi] != x0[lo:hi])[0]
            if bad.size:
                failures.append({"buffer": b["name"], "kind": "input changed", "first_bad": int(bad[0]),
                                 "count": int(bad.size), "expected": num(x0[lo + bad[0]]),
                                 "actual": num(x[lo + bad[0]])})
            continue
        e = arrays[b["name"]]
        a = x[lo:hi].astype(e.dtype) if b["dtype"] != "bool" else x[lo:hi]
        if e.dtype.kind == "f":
            with np.errstate(invalid="ignore", over="ignore"):
                ok = np.isclose(a, e, rtol=case["rtol"], atol=case["atol"], equal_nan=True)
                err = np.abs(a.astype(np.float64) - e.astype(np.float64))
        else:
            ok = a.astype(np.int64) == e.astype(np.int64)
            err = np.abs(a.astype(np.float64) - e.astype(np.float64))
        bad = np.nonzero(~ok)[0]
        if bad.size:
            i = int(bad[0])
            finite = err[bad][np.isfinite(err[bad])]
            failures.append({"buffer": b["name"], "kind": "mismatch", "first_bad": i, "count": int(bad.size),
                             "of": int(b["count"]), "max_abs_err": float(finite.max()) if finite.size else None,
                             "expected": num(e[i]), "actual": num(x[lo + i])})
    return failures


# ---- devices ------------------------------------------------------------------------------------------------------

class Fatal(Exception):
    """The device is unusable after this error (a kernel fault)."""


def cupy_description(cupy):
    """The GPU's name and the CuPy and NVRTC versions, for the report."""
    try:
        name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception as e:
        name = "unknown GPU (%s)" % e
    try:
        nvrtc = ".".join(map(str, cupy.cuda.nvrtc.getVersion()))
    except Exception:
        nvrtc = "?"
    return "%s, CuPy %s, NVRTC %s" % (name, cupy.__version__, nvrtc)


class CupyDevice:
    name = "cupy"

    def __init__(self, options):
        import cupy
        self.cp = cupy
        self.options = tuple(options)
        self.modules = {}
        self.description = cupy_description(cupy)

    def compile(self, source, functions, extra=()):
        key = (source, extra)
        if key not in self.modules:
            mod = self.cp.RawModule(code=source, backend="nvrtc", options=self.options + tuple(extra))
            self.modules[key] = {f: mod.get_function(f) for f in functions}
        return self.modules[key]

    def run(self, module, case, host, block):
        cp = self.cp
        try:
            dev = [cp.asarray(h) for h in host]
            args = []
            for a in case["args"]:
                if a["kind"] == "buffer":
                    args.append(dev[[b["name"] for b in case["buffers"]].index(a["name"])])
                else:
                    args.append(np.int32(a["value"]))
            args = tuple(args)
            for launch in case["launches"]:
                g = geometry(launch["threads"], block)
                if g:
                    module[launch["function"]]((g[0],), (g[1],), args)
            cp.cuda.runtime.deviceSynchronize()
            return [cp.asnumpy(d) for d in dev]
        except Exception as e:  # a fault poisons the context: the worker must restart
            raise Fatal("%s: %s" % (type(e).__name__, e)) from e


SHIM = r"""
#include <math.h>
#include <stdlib.h>
#include <string.h>
struct GaleDim3 { unsigned x, y, z; };
extern "C" { GaleDim3 blockIdx, blockDim, threadIdx; }
#define __global__
#define __device__
#define __forceinline__ inline
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
"""


class HostDevice:
    """CUDA sources compiled with g++ (no FMA contraction) and run thread by thread on the CPU."""
    name = "host"
    description = "CPU emulation (g++)"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gale-cuda-host-")
        atexit.register(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "shim.h"), "w") as f:
            f.write(SHIM)
        self.modules = {}
        self.built = {}

    def _build(self, n, source):
        """Compiles one source to k<n>.so; returns the library's path, or the compiler's complaint."""
        src, lib = os.path.join(self.dir, "k%d.cu" % n), os.path.join(self.dir, "k%d.so" % n)
        with open(src, "w") as f:
            f.write(source)
        p = subprocess.run(["g++", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-w", "-include",
                            os.path.join(self.dir, "shim.h"), "-x", "c++", src, "-o", lib],
                           capture_output=True, text=True)
        return (lib, None) if p.returncode == 0 else (None, p.stderr[-4000:])

    def precompile(self, sources):
        """Compiles the sources on every core at once (g++ takes about 0.1 s a source); compile() then finds them."""
        todo = [s for s in dict.fromkeys(sources) if s not in self.built]
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for s, r in zip(todo, pool.map(lambda a: self._build(*a), [(len(self.built) + i, s) for i, s in
                                                                       enumerate(todo)])):
                self.built[s] = r

    def compile(self, source, functions, extra=()):
        if source not in self.modules:
            lib, error = self.built.get(source) or self._build(len(self.built), source)
            self.built[source] = (lib, error)
            if error is not None:
                raise RuntimeError(error)
            self.modules[source] = ctypes.CDLL(lib)
        return self.modules[source]

    def run(self, lib, case, host, block):
        names = [b["name"] for b in case["buffers"]]
        args = [ctypes.c_void_p(host[names.index(a["name"])].ctypes.data) if a["kind"] == "buffer"
                else ctypes.c_int(a["value"]) for a in case["args"]]
        dims = {d: (ctypes.c_uint * 3).in_dll(lib, d) for d in ("blockIdx", "blockDim", "threadIdx")}
        for launch in case["launches"]:
            g = geometry(launch["threads"], block)
            if not g:
                continue
            fn = getattr(lib, launch["function"])
            fn.restype = None
            dims["blockDim"][0] = g[1]
            for bx in range(g[0]):
                dims["blockIdx"][0] = bx
                for tx in range(g[1]):
                    dims["threadIdx"][0] = tx
                    fn(*args)
        return host


class IdentityDevice:
    """The dry run's device: writes each output's expected values, as a correct kernel would."""
    name = "dry-run"
    description = "dry run (NumPy only)"

    def __init__(self, arrays_of):
        self.arrays_of = arrays_of

    def compile(self, source, functions, extra=()):
        return None

    def run(self, module, case, host, block):
        arrays = self.arrays_of(case)
        for b, h in zip(case["buffers"], host):
            if b["output"]:
                h[b["offset"]:b["offset"] + b["count"]] = arrays[b["name"]]
        return host


# ---- running ------------------------------------------------------------------------------------------------------

def read_source(corpus, case):
    with open(os.path.join(corpus, case["source"])) as f:
        return f.read()


def run_case(corpus, case, device, blocks, retry_fmad):
    result = {"name": case["name"], "group": case["group"], "source": case["source"]}
    source = read_source(corpus, case)
    problems = check_case(corpus, case, source)
    try:
        arrays = load_arrays(corpus, case)
    except Exception as e:
        problems.append("%s: %s" % (case["data"], e))
    if problems:
        result.update(status="bad case", problems=problems)
        return result
    functions = [l["function"] for l in case["launches"]]
    try:
        module = device.compile(source, functions)
    except Fatal:
        raise
    except Exception as e:
        result.update(status="compile error", log=str(e)[-4000:])
        return result
    failures = []
    for block in blocks:
        host = host_buffers(case, arrays)
        before = [h.copy() for h in host]
        for f in compare(case, arrays, before, device.run(module, case, host, block)):
            f["block"] = block
            failures.append(f)
    result["status"] = "fail" if failures else "pass"
    if failures:
        result["failures"] = failures
        if retry_fmad:
            try:
                plain = device.compile(source, functions, ("--fmad=false",))
                host = host_buffers(case, arrays)
                before = [h.copy() for h in host]
                result["passes_without_fmad"] = not compare(case, arrays, before,
                                                            device.run(plain, case, host, blocks[0]))
            except Fatal:
                raise
            except Exception as e:
                result["passes_without_fmad"] = "error: %s" % e
    return result


def describe(r):
    """The printed lines for a case that did not pass."""
    if r["status"] == "compile error":
        first = next((l for l in r.get("log", "").splitlines() if "error" in l), r.get("log", "")[:200])
        return ["COMPILE %s (%s): %s" % (r["name"], r["source"], first.strip())]
    if r["status"] in ("crashed", "not run", "bad case"):
        return ["%s %s: %s" % (r["status"].upper(), r["name"], r.get("error") or "; ".join(r.get("problems", [])))]
    lines = []
    fmad = "" if "passes_without_fmad" not in r else "; with --fmad=false: %s" % (
        "passes" if r["passes_without_fmad"] is True else r["passes_without_fmad"] or "fails")
    for f in r["failures"]:
        if f["kind"] != "mismatch":
            lines.append("FAIL %s %s (block %d): %s, %d element(s), first at index %d (relative to the buffer): %s%s"
                         % (r["name"], f["buffer"], f["block"], f["kind"], f["count"], f["first_bad"],
                            "expected %s, got %s" % (f["expected"], f["actual"]) if "expected" in f
                            else "wrote %s" % f["actual"], fmad))
            continue
        err = f.get("max_abs_err")
        lines.append("FAIL %s %s (block %d): %s, %d of %s elements, max abs error %s, first bad index %d: expected %s,"
                     " got %s%s" % (r["name"], f["buffer"], f["block"], f["kind"], f["count"], f.get("of", "?"),
                                    "%.3g (finite ones)" % err if err is not None else "-", f["first_bad"],
                                    f.get("expected"), f.get("actual"), fmad))
    return lines


def self_test(corpus, cases):
    """The comparison catches a wrong element, a write outside a buffer and a missing write."""
    case = next(c for c in cases if any(b["output"] and b["dtype"] == "float32" and b["offset"] for b in c["buffers"]))
    arrays = load_arrays(corpus, case)
    k = next(i for i, b in enumerate(case["buffers"]) if b["output"] and b["dtype"] == "float32" and b["offset"])
    b = case["buffers"][k]
    checks = []
    for what in ("wrong element", "write before", "write after", "missing write"):
        host = IdentityDevice(lambda c: arrays).run(None, case, host_buffers(case, arrays), 256)
        before = host_buffers(case, arrays)
        x, lo = host[k], b["offset"]
        if what == "wrong element":
            i = lo + b["count"] - 1
            x[i] = x[i] + 1.0 + abs(x[i]) if np.isfinite(x[i]) else 0.0
        elif what == "write before":
            x[lo - 1] = 0
        elif what == "write after":
            x[lo + b["count"]] = 0
        else:
            x[lo] = POISON["float32"]
        checks.append((what, bool(compare(case, arrays, before, host))))
    return case["name"], checks


def worker(args, cases, device):
    """Runs cases[start:] and appends one JSON line per case to args.worker_out; exits 3 after a device fault."""
    with open(args.worker_out, "a") as out:
        for i in range(args.worker_from, len(cases)):
            try:
                r = run_case(args.corpus, cases[i], device, args.block, not args.no_fmad_retry)
            except Fatal as e:
                out.write(json.dumps({"index": i, "name": cases[i]["name"], "group": cases[i]["group"],
                                      "source": cases[i]["source"], "status": "crashed", "error": str(e)}) + "\n")
                out.flush()
                os._exit(3)
            r["index"] = i
            out.write(json.dumps(r) + "\n")
            out.flush()


def supervise(args, cases):
    """Runs the cases in worker processes, restarting after a case that faults the device."""
    results, start, restarts = {}, 0, 0
    fd, path = tempfile.mkstemp(prefix="gale-cuda-results-", suffix=".jsonl")
    os.close(fd)
    while start < len(cases):
        cmd = [sys.executable, os.path.abspath(__file__), args.corpus, "--worker-from", str(start),
               "--worker-out", path, "--block", ",".join(map(str, args.block))]
        cmd += ["--nvrtc-option=" + o for o in args.nvrtc_option]
        cmd += ["--only", args.only] if args.only else []
        cmd += ["--no-fmad-retry"] if args.no_fmad_retry else []
        rc = subprocess.run(cmd).returncode
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                results[r["index"]] = r
        done = max(results) + 1 if results else 0
        if done < len(cases):
            if done == start or rc == 0:  # died before writing its case: that case crashed it
                results[done] = {"index": done, "name": cases[done]["name"], "group": cases[done]["group"],
                                 "source": cases[done]["source"], "status": "crashed",
                                 "error": "worker exited with %d" % rc}
                done += 1
            restarts += 1
            if restarts > 25:
                for i in range(done, len(cases)):
                    results[i] = {"index": i, "name": cases[i]["name"], "group": cases[i]["group"],
                                  "source": cases[i]["source"], "status": "not run", "error": "too many faults"}
                break
        start = done
    os.remove(path)
    return [results[i] for i in range(len(cases))]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--report", help="write a JSON report here")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="NumPy only: check the corpus and the comparison")
    mode.add_argument("--host", action="store_true", help="run the kernels on the CPU (g++)")
    p.add_argument("--block", type=lambda s: [int(x) for x in s.split(",")], default=None,
                   help="block size(s), comma separated (default: the manifest's)")
    p.add_argument("--nvrtc-option", action="append", default=[], help="extra NVRTC option (repeatable)")
    p.add_argument("--only", help="run only the cases whose name matches this regular expression")
    p.add_argument("--no-fmad-retry", action="store_true", help="do not rerun failing cases with --fmad=false")
    p.add_argument("--in-process", action="store_true", help="CuPy: no worker process (a fault ends the run)")
    p.add_argument("--worker-from", type=int, help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args()

    manifest = load_manifest(args.corpus)
    args.block = args.block or [manifest["block"]]
    cases = [c for c in manifest["cases"] if not args.only or re.search(args.only, c["name"])]

    if args.worker_from is not None:
        worker(args, cases, CupyDevice(args.nvrtc_option))
        return 0

    if args.dry_run:
        cache = {}
        arrays_of = lambda c: cache.setdefault(c["name"], load_arrays(args.corpus, c))
        device = IdentityDevice(arrays_of)
        results = [run_case(args.corpus, c, device, args.block, False) for c in cases]
        name, checks = self_test(args.corpus, cases)
        missed = [w for w, caught in checks if not caught]
        print("dry run: comparison self-test on %s: %s" % (name, ", ".join(
            "%s %s" % (w, "caught" if caught else "MISSED") for w, caught in checks)))
        launches = sum(len(c["launches"]) for c in cases)
        threads = sum(l["threads"] for c in cases for l in c["launches"])
        print("dry run: %d cases, %d launches, %d threads, %d with non-zero offsets, %d unguarded launches"
              % (len(cases), launches, threads, sum(1 for c in cases if any(b["offset"] for b in c["buffers"])),
                 sum(1 for c in cases for l in c["launches"] if not l["guarded"])))
        device_name = device.description
    elif args.host:
        device = HostDevice()
        device.precompile(read_source(args.corpus, c) for c in cases)
        results = [run_case(args.corpus, c, device, args.block, False) for c in cases]
        device_name, missed = device.description, []
    elif args.in_process:
        device = CupyDevice(args.nvrtc_option)
        results = [run_case(args.corpus, c, device, args.block, not args.no_fmad_retry) for c in cases]
        device_name, missed = device.description, []
    else:
        import cupy  # the description, and an early failure when CuPy is missing
        device_name = cupy_description(cupy)
        results = supervise(args, cases)
        missed = []

    for r in results:
        if r["status"] != "pass":
            for line in describe(r):
                print(line)
    count = lambda *s: sum(1 for r in results if r["status"] in s)
    passed, compile_errors = count("pass"), count("compile error")
    failed = len(results) - passed - compile_errors
    mode = "dry-run" if args.dry_run else "host" if args.host else "cupy"
    print("CUDA corpus: %d passed, %d failed, %d failed to compile of %d%s" % (
        passed, failed, compile_errors, len(results), "" if mode == "cupy" else " (%s: nothing ran on a GPU)" % mode))
    print("(%s; block %s; %d crashed, %d not run, %d bad cases; %d of the failures pass with --fmad=false)"
          % (device_name, ",".join(map(str, args.block)), count("crashed"), count("not run"), count("bad case"),
             sum(1 for r in results if r.get("passes_without_fmad") is True)))
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"device": device_name, "mode": mode,
                       "block": args.block, "summary": {"passed": passed, "failed": failed,
                                                        "compile_errors": compile_errors, "total": len(results)},
                       "cases": results}, f, indent=1, allow_nan=False)
    return 1 if failed or compile_errors or missed else 0


if __name__ == "__main__":
    sys.exit(main())
