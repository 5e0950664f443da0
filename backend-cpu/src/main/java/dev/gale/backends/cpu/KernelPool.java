package dev.gale.backends.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of threads that run the pieces of one data-parallel loop at a time, each with its own {@link Scratch}
 * (packing buffers reused from call to call, so a kernel allocates nothing once its buffers have grown to size).
 *
 * <p>The calling thread takes part as participant 0; workers are 1..threads-1. Each participant owns a contiguous
 * share of every loop's pieces, the same fraction of the index space each time (participant p of T: pieces
 * [p n / T, (p + 1) n / T)), and takes them from the front; one that runs out takes the others' last pieces, so a
 * core slowed by other load simply does fewer. Owning the same share of every loop keeps data on the core that wrote
 * it: an elementwise kernel after another over the same tensor, or after a convolution cut by images, reads what its
 * thread wrote. That matters most where the two cores share no cache: with a virtual machine's two vCPUs on
 * different dies of an EPYC (a cache line's round trip 320-400 ns instead of 65-140) the CNN's training step took
 * 2.8-3.0 ms with pieces handed out in turn from one counter and 2.1-2.2 with shares, against 1.1 and 1.0-1.05 with
 * both vCPUs on one die. Workers spin briefly after a loop and then park;
 * the caller waits for the last worker the same way. One loop runs at a time (callers queue on a lock); a task must
 * not start another loop on the same pool, since its scratch is in use: it calls the kernels' serial entry points
 * with the scratch it was given.
 *
 * <p>A pool flushes subnormals to zero ({@link DenormalFlush}) unless made with {@code flushDenormals} false or
 * {@code -Dgale.cpu.flushDenormals=false}: its workers run with the flush on for good, and the caller has it on for
 * the length of each loop ({@link #parallelFor}, {@link #exclusive}) or of a longer scope it opens with
 * {@link #beginFlush} (an execution plan's run), its own environment restored after. So every participant of a loop
 * does the same arithmetic, and the results do not depend on which thread took which piece.
 *
 * <pre>{@code
 * try (KernelPool pool = new KernelPool(2)) {
 *     Sgemm.gemm(pool, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n, Epilogue.NONE);
 * }
 * }</pre>
 */
public final class KernelPool implements AutoCloseable {
    /** Piece {@code index} of a parallel loop, run with the scratch of the thread that runs it. */
    @FunctionalInterface
    public interface Task {
        void run(int index, Scratch scratch);
    }

    /** Busy-wait rounds before yielding (see {@link #pause}). */
    private static final int SPINS = 1 << 10;
    /**
     * How long a waiting thread keeps spinning and yielding before it parks ({@code -Dgale.cpu.waitMicros}, default
     * 2000). A parked worker takes tens of microseconds to wake on a virtual machine: with 256 yields (about 60 us)
     * the workers parked in the gaps of a training step (the host's work between steps, a serial native step), and
     * the first parallel loop after one paid for the wake-up (the encoder layer's first transpose: 0.10 ms a step on
     * two threads against 0.024 on one). Yielding costs nothing when another thread needs the core.
     */
    private static final long WAIT_NANOS = Math.max(0, Long.getLong("gale.cpu.waitMicros", 2000)) * 1000;
    private static volatile KernelPool shared;

    /** Per thread: 1 while it runs with some pool's flush on (for good on a worker), else 0. */
    private static final ThreadLocal<int[]> FLUSHING = ThreadLocal.withInitial(() -> new int[1]);

    private final int threads;
    private final boolean flush;
    /** The lock holder's environment while a loop turns the flush on for it. */
    private final MemorySegment callerEnvironment;
    private final Scratch[] scratch;
    private final Thread[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Per participant p, the pieces it has not yet started of its share, as {@code lo << 32 | hi} at index
     * {@code p * STRIDE}: 128 bytes apart, so that a participant taking its own pieces touches no line another uses.
     */
    private final AtomicLongArray shares;
    private static final int STRIDE = 16;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Task task;
    private volatile int generation;
    private volatile boolean closed;
    /** True while the lock holder runs a loop (a nested loop from its tasks is an error; one from exclusive() is not). */
    private boolean inLoop;
    private float[] sharedBuffer = new float[0];
    private float[] resultBuffer = new float[0];
    private volatile Thread caller;
    /** While true, loops run on the calling thread alone ({@link #callerOnly(boolean)}). */
    private volatile boolean callerOnly;

    /**
     * A pool of {@code threads} participants (the caller plus {@code threads - 1} daemon workers) that flushes
     * subnormals unless {@code -Dgale.cpu.flushDenormals=false}.
     */
    public KernelPool(int threads) { this(threads, DenormalFlush.SUPPORTED); }

    /** A pool of {@code threads} participants; {@code flushDenormals} as {@link DenormalFlush} allows. */
    public KernelPool(int threads, boolean flushDenormals) {
        if (threads < 1) throw new IllegalArgumentException("a kernel pool needs at least one thread, got " + threads);
        this.threads = threads;
        this.flush = flushDenormals && DenormalFlush.SUPPORTED;
        this.callerEnvironment = DenormalFlush.newEnvironment(Arena.ofAuto());
        scratch = new Scratch[threads];
        for (int i = 0; i < threads; i++) scratch[i] = new Scratch(flush);
        shares = new AtomicLongArray(threads * STRIDE);
        workers = new Thread[threads - 1];
        for (int w = 1; w < threads; w++) {
            Worker t = new Worker(this, w);
            workers[w - 1] = t;
            t.start();
        }
    }

    /** The process-wide pool with one participant per available processor, started on first use. */
    public static KernelPool shared() {
        KernelPool p = shared;
        if (p == null) {
            synchronized (KernelPool.class) {
                if (shared == null) shared = new KernelPool(Runtime.getRuntime().availableProcessors());
                p = shared;
            }
        }
        return p;
    }

    public int threads() { return threads; }

    /**
     * While {@code on}, every loop runs all its pieces on the calling thread, one after another, and the workers stay
     * idle (they park after {@link #WAIT_NANOS}). The pieces are the same as on all threads ({@link #threads()} still
     * counts the workers, so callers cut their work the same way) and each piece computes the same values wherever it
     * runs, so results do not change. For a machine whose cores are busy elsewhere or share one core's units, where
     * a second thread gains nothing and the hand-offs cost (see {@code ThreadChoice} in the runtime, which sets it).
     */
    public void callerOnly(boolean on) { callerOnly = on; }

    /** Whether loops now run on the calling thread alone. */
    public boolean isCallerOnly() { return callerOnly; }

    /** True when this pool's loops take subnormal operands and results as zero. */
    public boolean flushesDenormals() { return flush; }

    /**
     * Turns this pool's flush on for the calling thread until {@link #endFlush}, saving its environment in
     * {@code saved} (a {@link DenormalFlush#newEnvironment} buffer); false, and nothing done, when the pool does not
     * flush or the thread already does. Pass the result to {@code endFlush}.
     */
    public boolean beginFlush(MemorySegment saved) {
        if (!flush) return false;
        int[] depth = FLUSHING.get();
        if (depth[0] != 0) return false;
        DenormalFlush.enter(saved);
        depth[0] = 1;
        return true;
    }

    /** Ends what {@link #beginFlush} began, when it returned true: the saved environment comes back. */
    public void endFlush(MemorySegment saved, boolean began) {
        if (!began) return;
        FLUSHING.get()[0] = 0;
        DenormalFlush.restore(saved);
    }

    /** Rejects a segment the workers may not touch (one from a confined arena, owned by one thread). */
    void checkAccess(String what, MemorySegment s) {
        if (s != null && workers.length > 0 && !s.isAccessibleBy(workers[0]))
            throw new IllegalArgumentException(what + " belongs to a confined arena, which only its owner thread may "
                    + "access; allocate kernel memory from a shared, global or automatic arena");
    }

    /**
     * Runs {@code task.run(i, scratch)} for every {@code i} in {@code [0, count)} across the pool and returns when all
     * have finished; the first exception a piece throws is rethrown here (the other pieces still run).
     */
    public void parallelFor(int count, Task task) {
        if (count <= 0) return;
        if (inLoop && lock.isHeldByCurrentThread() || Thread.currentThread() instanceof Worker w && w.pool == this)
            throw new IllegalStateException("a kernel pool task started another parallel loop on the same pool; "
                    + "call the serial kernel entry points with the task's scratch instead");
        lock.lock();
        inLoop = true;
        boolean flushing = false;
        try {
            if (closed) throw new IllegalStateException("the kernel pool is closed");
            flushing = beginFlush(callerEnvironment);
            if (count == 1 || threads == 1 || callerOnly) {
                for (int i = 0; i < count; i++) task.run(i, scratch[0]);
                return;
            }
            this.task = task;
            for (int p = 0; p < threads; p++)
                shares.set(p * STRIDE, (long) count * p / threads << 32 | (long) count * (p + 1) / threads);
            failure.set(null);
            caller = Thread.currentThread();
            running.set(workers.length);
            generation++;
            for (Thread w : workers) LockSupport.unpark(w);
            drain(0, scratch[0]);
            long since = System.nanoTime();
            for (int round = 0; running.get() != 0; round++) pause(round, since);
            this.task = null;
            Throwable t = failure.getAndSet(null);
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            try {
                endFlush(callerEnvironment, flushing);
            } finally {
                inLoop = false;
                lock.unlock();
            }
        }
    }

    /**
     * Runs {@code body} on the calling thread while no other caller can use the pool, so that several parallel loops
     * can share {@link #sharedFloats} (a GEMM packs B once for all threads, then multiplies).
     */
    void exclusive(Runnable body) {
        if (inLoop && lock.isHeldByCurrentThread() || Thread.currentThread() instanceof Worker w && w.pool == this)
            throw new IllegalStateException("a kernel pool task started another parallel loop on the same pool");
        lock.lock();
        boolean flushing = false;
        try {
            if (closed) throw new IllegalStateException("the kernel pool is closed");
            flushing = beginFlush(callerEnvironment);
            body.run();
        } finally {
            try {
                endFlush(callerEnvironment, flushing);
            } finally {
                lock.unlock();
            }
        }
    }

    /** A buffer all participants may read, for use within {@link #exclusive}; grows to the largest size asked for. */
    float[] sharedFloats(int size) {
        if (!lock.isHeldByCurrentThread()) throw new IllegalStateException("sharedFloats outside exclusive()");
        if (sharedBuffer.length < size) sharedBuffer = new float[size];
        return sharedBuffer;
    }

    /**
     * A second buffer like {@link #sharedFloats}, for a result the participants write while the first holds packed
     * operands (a convolution's product over several images, before its epilogue writes Y).
     */
    float[] sharedResult(int size) {
        if (!lock.isHeldByCurrentThread()) throw new IllegalStateException("sharedResult outside exclusive()");
        if (resultBuffer.length < size) resultBuffer = new float[size];
        return resultBuffer;
    }

    /** Runs {@code task.run(0, scratch)} on the calling thread with participant 0's scratch (one loop at a time). */
    public void serial(Task task) { parallelFor(1, task); }

    /**
     * One round of a wait that began at {@code since} (System.nanoTime): spin first (the next loop usually follows
     * within microseconds), then yield (on a machine with more runnable threads than cores, the thread being waited
     * for may need this core) until {@link #WAIT_NANOS} have passed, then park until unparked.
     */
    private void pause(int round, long since) {
        if (round < SPINS) Thread.onSpinWait();
        else if (System.nanoTime() - since < WAIT_NANOS) Thread.yield();
        else LockSupport.park(this);
    }

    /**
     * Runs participant {@code p}'s share from its front, then the others' remaining pieces from their backs. The task
     * is called here, and this from {@link #parallelFor} and the worker's loop, with no helper between: the kernels
     * C2 inlines into these loops sit as deep as with one shared counter (a vector call past its inlining depth boxes).
     */
    private void drain(int p, Scratch s) {
        Task t = task;
        for (int d = 0; d < threads; d++) {
            int q = (p + d) % threads;
            for (int i; (i = take(q, d == 0)) >= 0; ) {
                try {
                    t.run(i, s);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }
        }
    }

    /** The next piece of participant {@code q}'s share, from its front or its back; -1 when none is left. */
    private int take(int q, boolean front) {
        int at = q * STRIDE;
        while (true) {
            long v = shares.get(at);
            int lo = (int) (v >>> 32), hi = (int) v;
            if (lo >= hi) return -1;
            if (shares.compareAndSet(at, v, front ? v + (1L << 32) : v - 1)) return front ? lo : hi - 1;
        }
    }

    private void work(int id) {
        int seen = 0;
        while (true) {
            long since = System.nanoTime();
            for (int round = 0; generation == seen && !closed; round++) pause(round, since);
            if (closed) return;
            seen = generation;
            drain(id, scratch[id]);
            if (running.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    /** Stops the workers; the shared pool ignores this. */
    @Override
    public void close() {
        if (this == shared) return;
        lock.lock();
        try {
            closed = true;
            for (Thread w : workers) LockSupport.unpark(w);
        } finally {
            lock.unlock();
        }
    }

    /** A pool thread; knowing its pool lets a nested loop be reported instead of deadlocking. */
    private static final class Worker extends Thread {
        final KernelPool pool;
        final int id;

        Worker(KernelPool pool, int id) {
            super("gale-cpu-" + id);
            this.pool = pool;
            this.id = id;
            setDaemon(true);
        }

        @Override
        public void run() {
            if (pool.flush) {
                DenormalFlush.enterForGood();
                FLUSHING.get()[0] = 1;
            }
            pool.work(id);
        }
    }
}
