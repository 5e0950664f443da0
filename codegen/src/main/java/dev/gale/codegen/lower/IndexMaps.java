package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where an element of an op's output reads its input, as coordinates: the index arithmetic that broadcasting and
 * the injective ops (reshape, transpose, slice, tile, ...) become. Dimensions are index expressions (literals or
 * symbolic sizes); coordinates are index expressions over loop variables.
 */
final class IndexMaps {
    private IndexMaps() {}

    /** Row-major element offset of coordinates {@code at} in a tensor of dimensions {@code dims}. */
    static Ix flat(List<Ix> at, List<Ix> dims) {
        Ix[] strides = new Ix[dims.size()];
        Ix stride = Ix.ONE;
        for (int k = dims.size() - 1; k >= 0; k--) {
            strides[k] = stride;
            stride = Ix.mul(stride, dims.get(k));
        }
        List<Ix> terms = new ArrayList<>();
        for (int k = 0; k < dims.size(); k++) terms.add(Ix.mul(at.get(k), strides[k]));
        return Ix.sum(terms);
    }

    /**
     * Numpy broadcasting: the input coordinates of output coordinates {@code at}. Dimensions align at the right; an
     * input dimension of size 1 reads coordinate 0. Returns null when it cannot be told (a symbolic input dimension
     * against a different output dimension might be 1 at run time).
     */
    static List<Ix> broadcast(List<Ix> at, List<Ix> out, List<Ix> in) {
        int shift = out.size() - in.size();
        if (shift < 0) return null;
        List<Ix> r = new ArrayList<>();
        for (int k = 0; k < in.size(); k++) {
            Ix d = in.get(k);
            if (d.equals(Ix.ONE)) r.add(Ix.ZERO);
            else if (d.equals(out.get(k + shift))) r.add(at.get(k + shift));
            else return null;
        }
        return r;
    }

    /**
     * Reshape: the input coordinates of output coordinates {@code at}. Both shapes are cut into the shortest groups of
     * consecutive dimensions with equal element counts ({@code [n,12] -> [n,3,4]} gives {@code n | 12 = 3*4}); only
     * within a group does the offset need to be computed and split again, so a reshape that splits or merges
     * dimensions costs one division per split dimension and none for a merge. Dimensions of size 1 are left out
     * (their coordinate is 0). When the groups cannot be matched (symbolic sizes that do not line up, such as
     * {@code [a,64] -> [16,b,64]}), the whole offset is computed and split again; the caller then has the kernel
     * check at run time that the element counts agree.
     */
    static List<Ix> reshape(List<Ix> at, List<Ix> out, List<Ix> in) {
        List<Ix> r = reshapeByGroups(at, out, in);
        return r != null ? r : unravel(flat(at, out), in);
    }

    /** The coordinates of row-major offset {@code offset} in a tensor of dimensions {@code dims}. */
    static List<Ix> unravel(Ix offset, List<Ix> dims) {
        Ix[] r = new Ix[dims.size()];
        Ix stride = Ix.ONE;
        for (int k = dims.size() - 1; k >= 0; k--) {
            Ix c = Ix.div(offset, stride);
            r[k] = k > 0 ? Ix.mod(c, dims.get(k)) : c;
            stride = Ix.mul(stride, dims.get(k));
        }
        return List.of(r);
    }

    /** Reshape within matched groups of dimensions; null when the groups cannot be matched symbolically. */
    private static List<Ix> reshapeByGroups(List<Ix> at, List<Ix> out, List<Ix> in) {
        List<Ix> r = new ArrayList<>();
        for (int k = 0; k < in.size(); k++) r.add(Ix.ZERO);
        for (Ix d : out) if (d.equals(Ix.ZERO)) return r; // no elements: never evaluated
        for (Ix d : in) if (d.equals(Ix.ZERO)) return r;
        List<Integer> os = nonUnit(out), is = nonUnit(in);
        int i = 0, j = 0;
        while (i < os.size() || j < is.size()) {
            if (i >= os.size() || j >= is.size()) return null;
            List<Integer> go = new ArrayList<>(List.of(os.get(i++))), gi = new ArrayList<>(List.of(is.get(j++)));
            Monomial po = Monomial.of(out.get(go.getFirst())), pi = Monomial.of(in.get(gi.getFirst()));
            while (po != null && pi != null && !po.equals(pi)) {
                if (po.divides(pi) && i < os.size()) {
                    go.add(os.get(i));
                    po = po.times(Monomial.of(out.get(os.get(i++))));
                } else if (pi.divides(po) && j < is.size()) {
                    gi.add(is.get(j));
                    pi = pi.times(Monomial.of(in.get(is.get(j++))));
                }
                else return null;
            }
            if (po == null || pi == null) return null;
            Ix offset = Ix.ZERO, stride = Ix.ONE;
            for (int k = go.size() - 1; k >= 0; k--) {
                offset = Ix.add(Ix.mul(at.get(go.get(k)), stride), offset);
                stride = Ix.mul(stride, out.get(go.get(k)));
            }
            stride = Ix.ONE;
            for (int k = gi.size() - 1; k >= 0; k--) {
                Ix c = Ix.div(offset, stride);
                if (k > 0) c = Ix.mod(c, in.get(gi.get(k)));
                r.set(gi.get(k), c);
                stride = Ix.mul(stride, in.get(gi.get(k)));
            }
        }
        return r;
    }

    private static List<Integer> nonUnit(List<Ix> dims) {
        List<Integer> r = new ArrayList<>();
        for (int k = 0; k < dims.size(); k++) if (!dims.get(k).equals(Ix.ONE)) r.add(k);
        return r;
    }

    /** A product of dimensions: a literal factor times symbolic sizes (with multiplicity), compared as such. */
    private record Monomial(long coefficient, Map<String, Integer> symbols) {
        static Monomial of(Ix d) {
            Map<String, Integer> s = new TreeMap<>();
            if (d instanceof Ix.Size z) {
                s.put(z.name(), 1);
                return new Monomial(1, s);
            }
            if (d instanceof Ix.Lit l) return new Monomial(l.value(), s);
            if (d instanceof Ix.Mul m) {
                Monomial r = new Monomial(1, s);
                for (Ix f : m.factors()) if (r != null) r = r.times(of(f));
                return r;
            }
            return null; // a quotient: the groups cannot be matched
        }

        Monomial times(Monomial o) {
            if (o == null) return null;
            Map<String, Integer> s = new TreeMap<>(symbols);
            o.symbols.forEach((k, v) -> s.merge(k, v, Integer::sum));
            return new Monomial(coefficient * o.coefficient, s);
        }

        boolean divides(Monomial o) {
            if (coefficient == 0 || o.coefficient % coefficient != 0) return false;
            for (Map.Entry<String, Integer> e : symbols.entrySet())
                if (o.symbols.getOrDefault(e.getKey(), 0) < e.getValue()) return false;
            return true;
        }
    }

    /** Transpose by {@code perm}: output dimension k is input dimension perm[k]. */
    static List<Ix> transpose(List<Ix> at, int[] perm) {
        Ix[] r = new Ix[perm.length];
        for (int k = 0; k < perm.length; k++) r[perm[k]] = at.get(k);
        return List.of(r);
    }
}
