package dev.gale.codegen.jvm;

import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.render.JavaRenderer;
import dev.gale.ir.GaleException;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns kernels into running JVM code: Java source from {@link JavaRenderer}, compiled in memory with
 * {@code javax.tools} and defined as hidden classes of this package, so they are unloaded once no kernel refers to
 * them.
 *
 * <p>Why Java source and javac rather than emitting class files with {@code java.lang.classfile}: javac does no
 * optimization either way (C2 does it all from the same bytecode shapes), and source is what the golden tests and a
 * developer read; javac also type-checks the renderer's output, so a renderer bug is a compile error naming the line
 * instead of a verifier error or a wrong result. The price is javac's time (tens of milliseconds per kernel once
 * warm), which {@link #compileAll} spreads over one javac run for all the kernels of a graph, and a cache by source
 * text makes repeated kernels free.
 */
public final class JvmCompiler {
    private static final MethodType RUN = MethodType.methodType(void.class, int.class, Object[].class, int[].class,
            int[].class, int.class, int.class);
    private static final MethodType RUN_SEGMENTS = MethodType.methodType(void.class, int.class, Object[].class,
            long[].class, int[].class, int.class, int.class);
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private final Map<String, MethodHandle> cache = new ConcurrentHashMap<>();
    private final JavaRenderer renderer;
    private int classes;

    /** A compiler that vectorizes where the JVM has the Vector API. */
    public JvmCompiler() { this(true); }

    /** {@code vectorize = false}: scalar Java only (for comparisons; also the fallback without the Vector API). */
    public JvmCompiler(boolean vectorize) { this(vectorize, JavaRenderer.Storage.ARRAYS); }

    /**
     * A compiler whose kernels take their buffers as {@code storage} says: arrays, or memory segments (see
     * {@link CompiledKernel#prepare}).
     */
    public JvmCompiler(boolean vectorize, JavaRenderer.Storage storage) {
        renderer = new JavaRenderer(vectorize && VECTOR_API, storage);
    }

    /** Whether generated kernels may use {@code jdk.incubator.vector} (the JVM was started with it). */
    public static boolean vectorApi() { return VECTOR_API; }

    public CompiledKernel compile(KernelIR k) { return compileAll(List.of(k)).getFirst(); }

    /** Classes this compiler has generated so far (kernels that render alike share one). */
    public synchronized int classesDefined() { return classes; }

    /** Compiles the kernels in one javac run (those compiled before come from the cache). */
    public synchronized List<CompiledKernel> compileAll(List<KernelIR> kernels) {
        boolean segments = renderer.storage() == JavaRenderer.Storage.SEGMENTS;
        List<String> sources = new ArrayList<>();
        Map<String, String> todo = new HashMap<>(); // class name -> source, for sources not yet cached
        Map<String, String> classOf = new HashMap<>(); // source -> class name
        for (KernelIR k : kernels) {
            // Rendered for a class, the source does not name the kernel: kernels that differ only in their names (a
            // transformer's layers' LayerNorms) share one class, which the JIT compiles once. With a class each,
            // MiniLM's twelve LayerNorm kernels each waited for their own C2 compile, running in the interpreter and
            // C1 meanwhile (4 ms a call instead of 0.02): 90-150 ms a forward pass for 10 s and more after the
            // start, where a benchmark's 3 s warmup ended.
            String canonical = renderer.render(k, "Kernel");
            sources.add(canonical);
            if (cache.containsKey(canonical) || classOf.containsKey(canonical)) continue;
            String cls = JavaRenderer.className(k) + "_" + classes++;
            classOf.put(canonical, cls);
            todo.put(cls, renderer.render(k, cls));
        }
        if (!todo.isEmpty()) {
            dump(todo);
            Map<String, byte[]> bytes = javac(todo);
            for (Map.Entry<String, String> e : classOf.entrySet())
                cache.put(e.getKey(), define(bytes.get(e.getValue()), segments ? RUN_SEGMENTS : RUN));
        }
        List<CompiledKernel> r = new ArrayList<>();
        for (int i = 0; i < kernels.size(); i++)
            r.add(new CompiledKernel(kernels.get(i), cache.get(sources.get(i)), renderer.render(kernels.get(i)),
                    segments));
        return r;
    }

    /**
     * With {@code -Dgale.codegen.dump=DIR}, writes each kernel's source as {@code DIR/CLASS.java} before compiling it:
     * the code HotSpot is given, to read or to profile by name. A folder that cannot be written is skipped silently
     * (a debugging aid must not fail a run).
     */
    private static void dump(Map<String, String> sources) {
        String dir = System.getProperty("gale.codegen.dump");
        if (dir == null || dir.isEmpty()) return;
        try {
            java.nio.file.Path d = java.nio.file.Files.createDirectories(java.nio.file.Path.of(dir));
            for (Map.Entry<String, String> e : sources.entrySet())
                java.nio.file.Files.writeString(d.resolve(e.getKey() + ".java"), e.getValue());
        } catch (java.io.IOException | RuntimeException e) {
            // a debugging aid: the kernels still compile and run
        }
    }

    private static MethodHandle define(byte[] classFile, MethodType type) {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup().defineHiddenClass(classFile, true);
            return l.findStatic(l.lookupClass(), "run", type);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot define a generated kernel class", e);
        }
    }

    /** Compiles the given sources (class name -> text) in memory; returns class files by class name. */
    private static Map<String, byte[]> javac(Map<String, String> sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null)
            throw new GaleException("the JVM kernels need the Java compiler (module jdk.compiler): run Gale on a JDK, "
                    + "not a JRE");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StandardJavaFileManager std = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8);
        Map<String, ByteArrayOutputStream> out = new HashMap<>();
        JavaFileManager fm = new ForwardingJavaFileManager<>(std) {
            @Override
            public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind,
                                                       FileObject sibling) {
                String simple = className.substring(className.lastIndexOf('.') + 1);
                return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + kind.extension),
                        kind) {
                    @Override
                    public OutputStream openOutputStream() {
                        return out.computeIfAbsent(simple, x -> new ByteArrayOutputStream());
                    }
                };
            }
        };
        List<JavaFileObject> units = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.entrySet()) {
            String path = JavaRenderer.PACKAGE.replace('.', '/') + "/" + e.getKey() + ".java";
            units.add(new SimpleJavaFileObject(URI.create("string:///" + path), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) { return e.getValue(); }
            });
        }
        List<String> options = new ArrayList<>(List.of("-proc:none", "-g:none", "-Xlint:none", "-XDsuppressNotes",
                "-XDstringConcat=inline", "-nowarn"));
        if (VECTOR_API) options.addAll(List.of("--add-modules", "jdk.incubator.vector"));
        boolean ok = javac.getTask(null, fm, diagnostics, options, null, units).call();
        if (!ok) {
            StringBuilder sb = new StringBuilder("generated kernel source does not compile (a renderer bug):");
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics())
                if (d.getKind() == Diagnostic.Kind.ERROR)
                    sb.append("\n  ").append(d.getSource() == null ? "" : d.getSource().getName()).append(':')
                            .append(d.getLineNumber()).append(": ").append(d.getMessage(null));
            throw new IllegalStateException(sb.toString());
        }
        Map<String, byte[]> r = new HashMap<>();
        out.forEach((k, v) -> r.put(k, v.toByteArray()));
        return r;
    }
}
