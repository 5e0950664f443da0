package dev.gale.backends.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * The binding to C's floating-point environment ({@code fegetenv}/{@code fesetenv}, through {@code java.lang.foreign})
 * that turns on flush-to-zero and denormals-are-zero for the calling thread: x86's MXCSR FTZ and DAZ bits, AArch64's
 * FPCR FZ bit. That is what PyTorch's {@code torch.set_flush_denormal(True)} and TensorFlow's thread pools do.
 *
 * <p>Why: an arithmetic instruction with a subnormal operand or result takes a microcode assist about a hundred
 * times slower than the normal path, and a training run's gradients and activations fill with subnormals as its loss
 * converges (the transformer's step went from 6.3 ms early in a run to 7.9 ms after 1,300 steps, with only the
 * GEMM's packing and the Mul/Div steps flushing by hand). With the bits set, every kernel, generated or not, takes
 * subnormals as zero at full speed. Results differ from IEEE arithmetic only where a value is below float32's
 * smallest normal number (1.18e-38), by less than that.
 *
 * <p>Java's own arithmetic is IEEE on every thread; this changes that for the threads that run Gale's kernels, and
 * only while they do: {@link KernelPool} sets it on its workers for their lifetime and around each loop or plan run
 * on the calling thread, restoring the caller's environment after. It is on where the C library's layout of
 * {@code fenv_t} is known (Linux on x86-64 and AArch64) and {@code -Dgale.cpu.flushDenormals} is not {@code false};
 * elsewhere {@link #SUPPORTED} is false and arithmetic stays IEEE.
 *
 * <pre>{@code
 * MemorySegment saved = DenormalFlush.newEnvironment(arena);
 * DenormalFlush.enter(saved);          // saves this thread's environment, sets FTZ and DAZ
 * try { ... } finally { DenormalFlush.restore(saved); }
 * }</pre>
 */
public final class DenormalFlush {
    /** Bytes of an environment buffer: {@code sizeof(fenv_t)} is 32 on x86-64 glibc and musl, 8 on AArch64. */
    static final long ENV_BYTES = 64;
    /** Read from memory, so that no compiler folds their product (initialised before the checks below use it). */
    private static final float[] OPERANDS = {Float.MIN_NORMAL, 0.5f};
    private static final MethodHandle GET, SET;
    /** The environment to run kernels in: the process's initial one with the flush bits set. */
    private static final MemorySegment FLUSHING;
    /** True when the flush can be set here and is not switched off. */
    public static final boolean SUPPORTED;
    /** Why {@link #SUPPORTED} is false ("" when it is true). */
    public static final String UNSUPPORTED_REASON;
    /** True on the platforms whose {@code fenv_t} layout this class knows (Linux on x86-64 and AArch64). */
    public static final boolean KNOWN_PLATFORM;

    static {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        long offset = -1; // where the control word with the flush bits sits in fenv_t
        int bits = 0;
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            offset = 28;       // unsigned int __mxcsr, after the x87 part
            bits = 0x8040;     // FTZ (bit 15) and DAZ (bit 6)
        } else if (os.contains("linux") && arch.equals("aarch64")) {
            offset = 0;        // unsigned int __fpcr
            bits = 1 << 24;    // FZ
        }
        MethodHandle get = null, set = null;
        MemorySegment flushing = null;
        String reason = "";
        if (!Boolean.parseBoolean(System.getProperty("gale.cpu.flushDenormals", "true"))) {
            reason = "-Dgale.cpu.flushDenormals=false";
        } else if (offset < 0) {
            reason = "the layout of fenv_t is not known on " + os + "/" + arch;
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                // critical: no thread-state transition around a call of a few instructions
                FunctionDescriptor d = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS);
                get = linker.downcallHandle(libc.find("fegetenv").orElseThrow(), d, Linker.Option.critical(false));
                set = linker.downcallHandle(libc.find("fesetenv").orElseThrow(), d, Linker.Option.critical(false));
                flushing = Arena.global().allocate(ENV_BYTES, 16);
                if ((int) get.invokeExact(flushing) != 0) throw new IllegalStateException("fegetenv failed");
                flushing.set(ValueLayout.JAVA_INT, offset, flushing.get(ValueLayout.JAVA_INT, offset) | bits);
                // Check on this thread that it takes effect and that the caller's environment comes back.
                MemorySegment saved = Arena.global().allocate(ENV_BYTES, 16);
                if ((int) get.invokeExact(saved) != 0 || (int) set.invokeExact(flushing) != 0)
                    throw new IllegalStateException("fesetenv failed");
                boolean flushed = halfOfSmallestNormal() == 0f;
                if ((int) set.invokeExact(saved) != 0) throw new IllegalStateException("fesetenv failed");
                if (!flushed) throw new IllegalStateException("setting the flush bits left subnormal results");
                if (halfOfSmallestNormal() == 0f) throw new IllegalStateException("restoring left the flush on");
            } catch (Throwable e) {
                reason = "the C library's floating-point environment is not usable: " + e.getMessage();
                get = set = null;
                flushing = null;
            }
        }
        GET = get;
        SET = set;
        FLUSHING = flushing;
        SUPPORTED = reason.isEmpty();
        KNOWN_PLATFORM = offset >= 0;
        UNSUPPORTED_REASON = reason;
        if (!SUPPORTED && Boolean.getBoolean("gale.cpu.verbose"))
            System.err.println("gale cpu: subnormals are not flushed: " + reason);
    }

    private DenormalFlush() {}

    /** A buffer that holds one thread's saved environment, for {@link #enter} and {@link #restore}. */
    public static MemorySegment newEnvironment(Arena arena) { return arena.allocate(ENV_BYTES, 16); }

    /** Saves the calling thread's environment into {@code saved} and turns the flush on; nothing when unsupported. */
    public static void enter(MemorySegment saved) {
        if (!SUPPORTED) return;
        call(true, saved);
        call(false, FLUSHING);
    }

    /** Turns the flush on for the calling thread for good (a kernel pool's worker). */
    static void enterForGood() {
        if (SUPPORTED) call(false, FLUSHING);
    }

    /** Puts back the environment {@link #enter} saved. */
    public static void restore(MemorySegment saved) {
        if (SUPPORTED) call(false, saved);
    }

    /**
     * {@code fegetenv(env)} or {@code fesetenv(env)}, which return 0 on success. Each handle is invoked from a static
     * final field, so that the JIT links the downcall directly (a handle passed as an argument is not a constant).
     */
    private static void call(boolean get, MemorySegment env) {
        int r;
        try {
            r = get ? (int) GET.invokeExact(env) : (int) SET.invokeExact(env);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        if (r != 0) throw new IllegalStateException("the C library refused the floating-point environment (" + r + ")");
    }

    /** True when the calling thread's arithmetic flushes subnormal results to zero right now. */
    public static boolean active() { return halfOfSmallestNormal() == 0f; }

    /** Half the smallest normal float, computed at run time: 0 under flush-to-zero, 5.9e-39 under IEEE. */
    private static float halfOfSmallestNormal() { return OPERANDS[0] * OPERANDS[1]; }

}
