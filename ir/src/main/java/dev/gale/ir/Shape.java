package dev.gale.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A tensor shape of known rank whose dimensions may be fixed, symbolic or unknown. */
public record Shape(List<Dim> dims) {
    public Shape {
        dims = List.copyOf(dims);
    }

    public static final Shape SCALAR = new Shape(List.of());

    public static Shape of(long... sizes) {
        List<Dim> d = new ArrayList<>(sizes.length);
        for (long s : sizes) d.add(Dim.of(s));
        return new Shape(d);
    }

    public static Shape of(Dim... dims) { return new Shape(Arrays.asList(dims)); }

    public int rank() { return dims.size(); }

    public Dim dim(int i) { return dims.get(i); }

    public boolean isStatic() {
        for (Dim d : dims) if (!d.isFixed()) return false;
        return true;
    }

    /** The sizes of a static shape; throws if a dimension is not fixed. */
    public long[] sizes() {
        long[] s = new long[dims.size()];
        for (int i = 0; i < s.length; i++) {
            if (!(dims.get(i) instanceof Dim.Fixed f)) throw new GaleException("shape " + this + " is not static");
            s[i] = f.size();
        }
        return s;
    }

    /** Element count of a static shape, or -1 if any dimension is not fixed. */
    public long numelOrMinus1() {
        long n = 1;
        for (Dim d : dims) {
            if (!(d instanceof Dim.Fixed f)) return -1;
            n *= f.size();
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(dims.get(i));
        }
        return sb.append(']').toString();
    }
}
