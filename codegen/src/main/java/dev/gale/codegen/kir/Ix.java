package dev.gale.codegen.kir;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Integer index expressions of the kernel IR: loop variables, symbolic sizes (kernel arguments) and literals combined
 * by {@code +}, {@code *}, {@code /} and {@code %}. Index values are element offsets and coordinates, so they are
 * never negative where {@code /} and {@code %} apply; both are then the same in Java, C, OpenCL and CUDA.
 *
 * <p>Build expressions only through the static constructors ({@link #add}, {@link #mul}, {@link #div}, {@link #mod}):
 * they keep a normal form (sums and products flattened, like terms and literals combined) and simplify with the
 * value bounds of the operands, so the index arithmetic that reshapes introduce cancels out where it can:
 * <pre>
 *   (a*c + b) / c  ->  a            when 0 <= b < c
 *   (a*c + b) % c  ->  b            when 0 <= b < c
 *   (g*x) / (g*c)  ->  x / c        (g*x) % (g*c)  ->  g*(x % c)
 *   (g*x + b) / c  ->  (g*x) / c    (g*x + b) % c  ->  (g*x) % c + b      when g divides c and 0 <= b < g
 *   (x/c1) / c2    ->  x / (c1*c2)
 *   k*((x/a) % b) + k*b*(x/(a*b))  ->  k*(x/a)      (unravel then ravel again; a = 1 drops the division)
 * </pre>
 */
public sealed interface Ix {
    /** A literal. */
    record Lit(long value) implements Ix {}

    /** A loop variable, ranging over {@code [0, extent)}. */
    record Var(String name, Ix extent) implements Ix {}

    /** A symbolic size: an int argument of the kernel, bound from the shape of an input at run time. */
    record Size(String name) implements Ix {}

    /** A sum of two or more terms, at most one of them a literal (the last). */
    record Add(List<Ix> terms) implements Ix {
        public Add { terms = List.copyOf(terms); }
    }

    /** A product of two or more factors, at most one of them a literal (the first). */
    record Mul(List<Ix> factors) implements Ix {
        public Mul { factors = List.copyOf(factors); }
    }

    /** Division rounding down (the operands are non-negative). */
    record Div(Ix a, Ix b) implements Ix {}

    /** Remainder (the operands are non-negative). */
    record Mod(Ix a, Ix b) implements Ix {}

    /** The smaller of two values. */
    record Min(Ix a, Ix b) implements Ix {}

    /** The larger of two values. */
    record Max(Ix a, Ix b) implements Ix {}

    Ix ZERO = new Lit(0);
    Ix ONE = new Lit(1);

    static Ix lit(long v) { return v == 0 ? ZERO : v == 1 ? ONE : new Lit(v); }

    // ---- constructors that simplify --------------------------------------------------------------------------------

    static Ix add(Ix a, Ix b) { return sum(List.of(a, b)); }

    /** The sum of {@code xs}, with like terms combined ({@code 2*i + 3*i -> 5*i}) and re-ravelled unravels folded. */
    static Ix sum(List<Ix> xs) {
        Map<Ix, Long> coeffs = new LinkedHashMap<>(); // term without its literal factor -> coefficient
        long constant = 0;
        List<Ix> flat = new ArrayList<>();
        for (Ix x : xs) {
            if (x instanceof Add s) flat.addAll(s.terms());
            else flat.add(x);
        }
        for (Ix x : flat) {
            if (x instanceof Lit l) {
                constant += l.value();
                continue;
            }
            coeffs.merge(base(x), coefficient(x), Long::sum);
        }
        coeffs.values().removeIf(c -> c == 0);
        while (reravel(coeffs)) coeffs.values().removeIf(c -> c == 0);
        List<Ix> terms = new ArrayList<>();
        for (Map.Entry<Ix, Long> e : coeffs.entrySet()) terms.add(scale(e.getKey(), e.getValue()));
        if (constant != 0 || terms.isEmpty()) terms.add(lit(constant));
        return terms.size() == 1 ? terms.getFirst() : new Add(terms);
    }

    /**
     * One step of {@code k*((x/a) % b) + k*b*(x/(a*b)) -> k*(x/a)}: the mixed-radix digits of {@code x} put back
     * together. Returns whether a pair was folded.
     */
    private static boolean reravel(Map<Ix, Long> coeffs) {
        for (Map.Entry<Ix, Long> e : coeffs.entrySet()) {
            if (!(e.getKey() instanceof Mod(Ix m, Lit(long b)))) continue;
            long k = e.getValue();
            Ix x = m;
            long a = 1;
            if (m instanceof Div(Ix y, Lit(long av))) {
                x = y;
                a = av;
            }
            Ix high = new Div(x, lit(a * b));
            Long kHigh = coeffs.get(high);
            if (kHigh == null || kHigh != k * b) continue;
            coeffs.remove(high);
            coeffs.remove(e.getKey());
            coeffs.merge(a == 1 ? x : new Div(x, lit(a)), k, Long::sum);
            return true;
        }
        return false;
    }

    static Ix mul(Ix a, Ix b) {
        if (a instanceof Lit la && b instanceof Lit lb) return lit(la.value() * lb.value());
        if (b instanceof Lit) return mul(b, a);
        if (a instanceof Lit la) {
            long k = la.value();
            if (k == 0) return ZERO;
            if (k == 1) return b;
            // Literals distribute over sums so that like terms can meet: 4*(i + 2) -> 4*i + 8.
            if (b instanceof Add s) {
                List<Ix> terms = new ArrayList<>();
                for (Ix t : s.terms()) terms.add(mul(a, t));
                return sum(terms);
            }
            return scale(base(b), k * coefficient(b));
        }
        List<Ix> factors = new ArrayList<>();
        long k = coefficient(a) * coefficient(b);
        for (Ix x : List.of(base(a), base(b))) {
            if (x instanceof Mul m) factors.addAll(m.factors());
            else factors.add(x);
        }
        return scale(new Mul(factors), k);
    }

    static Ix div(Ix a, Ix b) {
        if (b.equals(ONE)) return a;
        if (a instanceof Lit la && b instanceof Lit lb) return lit(Math.floorDiv(la.value(), lb.value()));
        long[] r = bounds(a), rb = bounds(b);
        if (r[0] >= 0 && rb[0] > 0 && r[1] < rb[0]) return ZERO;
        if (a instanceof Div(Ix x, Lit(long c1)) && b instanceof Lit(long c2)) return div(x, lit(c1 * c2));
        Ix exact = divideExact(a, b);
        if (exact != null) return exact;
        if (a instanceof Add s && r[0] >= 0) {
            // (a*c + rest) / c = a + rest / c when 0 <= rest < c
            List<Ix> multiples = new ArrayList<>(), rest = new ArrayList<>();
            for (Ix t : s.terms()) {
                Ix q = divideExact(t, b);
                if (q != null) multiples.add(q);
                else rest.add(t);
            }
            if (!multiples.isEmpty()) {
                Ix restSum = sum(rest);
                long[] rr = bounds(restSum);
                if (rr[0] >= 0 && rb[0] > 0 && rr[1] < rb[0]) return sum(multiples);
            }
        }
        if (b instanceof Lit(long c) && c > 1 && r[0] >= 0) {
            // (g*x) / (g*c') = x / c'
            long g = commonFactor(a, c);
            if (g > 1) return div(divideExact(a, lit(g)), lit(c / g));
            // (high + low) / c = high / c when high is a multiple of g, g divides c and 0 <= low < g
            Ix[] hl = a instanceof Add s ? splitBelow(s, c) : null;
            if (hl != null) return div(hl[0], b);
        }
        return new Div(a, b);
    }

    static Ix mod(Ix a, Ix b) {
        if (b.equals(ONE)) return ZERO;
        if (a instanceof Lit la && b instanceof Lit lb) return lit(Math.floorMod(la.value(), lb.value()));
        long[] r = bounds(a), rb = bounds(b);
        if (r[0] >= 0 && rb[0] > 0 && r[1] < rb[0]) return a;
        if (divideExact(a, b) != null) return ZERO;
        if (a instanceof Add s && r[0] >= 0) {
            // (a*c + rest) % c = rest % c: drop the multiples of c
            List<Ix> rest = new ArrayList<>();
            for (Ix t : s.terms()) if (divideExact(t, b) == null) rest.add(t);
            if (rest.size() < s.terms().size()) {
                Ix restSum = sum(rest);
                if (bounds(restSum)[0] >= 0) return mod(restSum, b);
            }
        }
        if (b instanceof Lit(long c) && c > 1 && r[0] >= 0) {
            // (g*x) % (g*c') = g*(x % c')
            long g = commonFactor(a, c);
            if (g > 1) return mul(lit(g), mod(divideExact(a, lit(g)), lit(c / g)));
            // (high + low) % c = high % c + low when high is a multiple of g, g divides c and 0 <= low < g
            Ix[] hl = a instanceof Add s ? splitBelow(s, c) : null;
            if (hl != null) return add(mod(hl[0], b), hl[1]);
        }
        return new Mod(a, b);
    }

    /** The greatest common divisor of {@code c} and the literal factors of all of {@code a}'s terms. */
    private static long commonFactor(Ix a, long c) {
        long g = c;
        for (Ix t : a instanceof Add s ? s.terms() : List.of(a)) g = gcd(g, Math.abs(coefficient(t)));
        return g;
    }

    private static long gcd(long x, long y) {
        while (y != 0) {
            long t = x % y;
            x = y;
            y = t;
        }
        return x;
    }

    /**
     * Splits a sum into {@code {high, low}}: the terms whose literal factors are multiples of some {@code g > 1} that
     * divides {@code c} (their sum is then a non-negative multiple of g), and the rest, which must lie in
     * {@code [0, g)}. The largest such g is tried first; null when there is none.
     */
    private static Ix[] splitBelow(Add s, long c) {
        TreeSet<Long> candidates = new TreeSet<>(Comparator.reverseOrder());
        for (Ix t : s.terms()) candidates.add(gcd(c, Math.abs(coefficient(t))));
        for (long g : candidates) {
            if (g <= 1) break;
            List<Ix> high = new ArrayList<>(), low = new ArrayList<>();
            for (Ix t : s.terms()) (coefficient(t) % g == 0 ? high : low).add(t);
            if (high.isEmpty() || low.isEmpty()) continue;
            Ix h = sum(high), l = sum(low);
            long[] hb = bounds(h), lbd = bounds(l);
            if (hb[0] >= 0 && lbd[0] >= 0 && lbd[1] < g) return new Ix[] {h, l};
        }
        return null;
    }

    static Ix min(Ix a, Ix b) {
        if (a instanceof Lit(long x) && b instanceof Lit(long y)) return lit(Math.min(x, y));
        long[] ra = bounds(a), rb = bounds(b);
        if (ra[1] <= rb[0] || lastOf(a, b)) return a;
        if (rb[1] <= ra[0] || lastOf(b, a)) return b;
        return new Min(a, b);
    }

    static Ix max(Ix a, Ix b) {
        if (a instanceof Lit(long x) && b instanceof Lit(long y)) return lit(Math.max(x, y));
        long[] ra = bounds(a), rb = bounds(b);
        if (ra[0] >= rb[1]) return a;
        if (rb[0] >= ra[1]) return b;
        return new Max(a, b);
    }

    /** Whether {@code x} is a loop variable and {@code y} its last value ({@code extent - 1}), so x <= y. */
    private static boolean lastOf(Ix x, Ix y) { return x instanceof Var v && y.equals(add(v.extent(), lit(-1))); }

    /** {@code x} clamped into {@code [lo, hi]}. */
    static Ix clamp(Ix x, Ix lo, Ix hi) { return min(max(x, lo), hi); }

    // ---- analysis -------------------------------------------------------------------------------------------------

    /** {@code t / d} when {@code d} divides {@code t} exactly as a polynomial (a literal or a symbolic factor); else null. */
    private static Ix divideExact(Ix t, Ix d) {
        if (t instanceof Add s) {
            List<Ix> q = new ArrayList<>();
            for (Ix x : s.terms()) {
                Ix y = divideExact(x, d);
                if (y == null) return null;
                q.add(y);
            }
            return sum(q);
        }
        long k = coefficient(t);
        Ix b = base(t);
        if (d instanceof Lit(long c)) return c != 0 && k % c == 0 ? scale(b, k / c) : null;
        List<Ix> factors = new ArrayList<>(b instanceof Mul m ? m.factors() : List.of(b));
        if (!factors.remove(d)) return null;
        Ix rest = factors.isEmpty() ? ONE : factors.size() == 1 ? factors.getFirst() : new Mul(factors);
        return scale(rest, k);
    }

    /** The literal factor of a term ({@code 4} in {@code 4*i*n}); 1 when there is none. */
    private static long coefficient(Ix x) {
        if (x instanceof Lit l) return l.value();
        if (x instanceof Mul m && m.factors().getFirst() instanceof Lit l) return l.value();
        return 1;
    }

    /** A term without its literal factor ({@code i*n} in {@code 4*i*n}). */
    private static Ix base(Ix x) {
        if (x instanceof Lit) return ONE;
        if (x instanceof Mul m && m.factors().getFirst() instanceof Lit) {
            List<Ix> rest = m.factors().subList(1, m.factors().size());
            return rest.size() == 1 ? rest.getFirst() : new Mul(rest);
        }
        return x;
    }

    private static Ix scale(Ix base, long k) {
        if (k == 0) return ZERO;
        if (base.equals(ONE)) return lit(k);
        if (k == 1) return base;
        List<Ix> factors = new ArrayList<>();
        factors.add(lit(k));
        if (base instanceof Mul m) factors.addAll(m.factors());
        else factors.add(base);
        return new Mul(factors);
    }

    /** Inclusive bounds {@code [lo, hi]} of the value; {@code Long.MAX_VALUE} stands for unbounded. */
    static long[] bounds(Ix x) {
        return switch (x) {
            case Lit l -> new long[] {l.value(), l.value()};
            case Var v -> {
                long hi = bounds(v.extent())[1];
                yield new long[] {0, hi == Long.MAX_VALUE ? hi : Math.max(0, hi - 1)};
            }
            case Size s -> new long[] {0, Long.MAX_VALUE};
            case Add s -> {
                long lo = 0, hi = 0;
                for (Ix t : s.terms()) {
                    long[] b = bounds(t);
                    lo = b[0] == Long.MIN_VALUE || lo == Long.MIN_VALUE ? Long.MIN_VALUE : saturatingAdd(lo, b[0]);
                    hi = b[1] == Long.MAX_VALUE || hi == Long.MAX_VALUE ? Long.MAX_VALUE : saturatingAdd(hi, b[1]);
                }
                yield new long[] {lo, hi};
            }
            case Mul m -> {
                long lo = 1, hi = 1;
                for (Ix f : m.factors()) {
                    long[] b = bounds(f);
                    long[] c = {sat(lo, b[0]), sat(lo, b[1]), sat(hi, b[0]), sat(hi, b[1])};
                    lo = Math.min(Math.min(c[0], c[1]), Math.min(c[2], c[3]));
                    hi = Math.max(Math.max(c[0], c[1]), Math.max(c[2], c[3]));
                }
                yield new long[] {lo, hi};
            }
            case Div d -> {
                long[] a = bounds(d.a()), b = bounds(d.b());
                if (a[0] < 0 || b[0] <= 0) yield new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
                yield new long[] {b[1] == Long.MAX_VALUE ? 0 : a[0] / b[1],
                        a[1] == Long.MAX_VALUE ? a[1] : a[1] / b[0]};
            }
            case Mod d -> {
                long[] a = bounds(d.a()), b = bounds(d.b());
                if (a[0] < 0 || b[0] <= 0) yield new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
                yield new long[] {0, Math.min(a[1], b[1] == Long.MAX_VALUE ? b[1] : b[1] - 1)};
            }
            case Min m -> {
                long[] a = bounds(m.a()), b = bounds(m.b());
                yield new long[] {Math.min(a[0], b[0]), Math.min(a[1], b[1])};
            }
            case Max m -> {
                long[] a = bounds(m.a()), b = bounds(m.b());
                yield new long[] {Math.max(a[0], b[0]), Math.max(a[1], b[1])};
            }
        };
    }

    private static long saturatingAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    private static long sat(long a, long b) {
        if (a == 0 || b == 0) return 0;
        boolean inf = Math.abs(a) == Long.MAX_VALUE || a == Long.MIN_VALUE || Math.abs(b) == Long.MAX_VALUE
                || b == Long.MIN_VALUE;
        long r;
        try {
            r = inf ? Long.MAX_VALUE : Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            r = Long.MAX_VALUE;
        }
        return r == Long.MAX_VALUE && (a < 0) != (b < 0) ? Long.MIN_VALUE : r;
    }

    /** Whether {@code x} mentions the loop variable {@code v}. */
    static boolean uses(Ix x, Var v) {
        return switch (x) {
            case Lit l -> false;
            case Size s -> false;
            case Var w -> w.equals(v);
            case Add s -> s.terms().stream().anyMatch(t -> uses(t, v));
            case Mul m -> m.factors().stream().anyMatch(t -> uses(t, v));
            case Div d -> uses(d.a(), v) || uses(d.b(), v);
            case Mod d -> uses(d.a(), v) || uses(d.b(), v);
            case Min m -> uses(m.a(), v) || uses(m.b(), v);
            case Max m -> uses(m.a(), v) || uses(m.b(), v);
        };
    }

    /**
     * The stride of {@code x} along {@code v} when {@code x = stride*v + rest} with {@code rest} and {@code stride}
     * free of {@code v}; null when {@code v} appears any other way (under {@code /} or {@code %}).
     */
    static Ix strideAlong(Ix x, Var v) {
        if (!uses(x, v)) return ZERO;
        if (x.equals(v)) return ONE;
        if (x instanceof Add s) {
            Ix stride = ZERO;
            for (Ix t : s.terms()) {
                Ix st = strideAlong(t, v);
                if (st == null) return null;
                stride = add(stride, st);
            }
            return stride;
        }
        if (x instanceof Mul m) {
            List<Ix> others = new ArrayList<>();
            int found = 0;
            for (Ix f : m.factors()) {
                if (f.equals(v)) found++;
                else if (uses(f, v)) return null;
                else others.add(f);
            }
            if (found != 1) return null;
            Ix r = ONE;
            for (Ix f : others) r = mul(r, f);
            return r;
        }
        return null;
    }

    /** The value of {@code x} for the given sizes and loop variables (both by name). */
    static long eval(Ix x, Map<String, Long> env) {
        return switch (x) {
            case Lit l -> l.value();
            case Var v -> value(env, v.name());
            case Size s -> value(env, s.name());
            case Add s -> s.terms().stream().mapToLong(t -> eval(t, env)).sum();
            case Mul m -> m.factors().stream().mapToLong(t -> eval(t, env)).reduce(1, (p, q) -> p * q);
            case Div d -> Math.floorDiv(eval(d.a(), env), eval(d.b(), env));
            case Mod d -> Math.floorMod(eval(d.a(), env), eval(d.b(), env));
            case Min m -> Math.min(eval(m.a(), env), eval(m.b(), env));
            case Max m -> Math.max(eval(m.a(), env), eval(m.b(), env));
        };
    }

    private static long value(Map<String, Long> env, String name) {
        Long v = env.get(name);
        if (v == null) throw new IllegalArgumentException("no value for '" + name + "'");
        return v;
    }
}
