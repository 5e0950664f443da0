package dev.gale.backends;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.Map;

/** What every backend's session says about the feeds of a run: missing or unknown names, and mis-shaped tensors. */
public final class Feeds {
    private Feeds() {}

    /** Every runtime input of {@code g} is fed, and every feed names an input of {@code g}. */
    public static void checkNames(Graph g, Map<String, Object> feeds) {
        for (Value v : g.runtimeInputs())
            if (!feeds.containsKey(v.name()))
                throw new GaleException("missing input '" + v.name() + "' (expected " + v.type() + ")");
        for (String name : feeds.keySet())
            if (g.inputs().stream().noneMatch(v -> v.name().equals(name)))
                throw new GaleException("'" + name + "' is not an input of the graph; inputs are "
                        + g.runtimeInputs().stream().map(Value::name).toList());
    }

    /**
     * {@code e}, a failure of a run of {@code g} on {@code feeds}, said at the input when a fed tensor's rank or a
     * fixed dimension differs from what the model declares: that, not the node that tripped over it, is what the
     * caller has to change; {@code e} itself otherwise. Feeds that differ from the declaration but run (the
     * conformance suite has one, a CastLike whose second input only lends its type) are left alone.
     */
    public static GaleException atInput(Graph g, Map<String, Object> feeds, GaleException e) {
        for (Value v : g.inputs()) {
            if (!(feeds.get(v.name()) instanceof Tensor t) || !(v.type() instanceof Type.TensorType want)
                    || want.shape() == null) continue;
            long[] got = t.shape();
            String fix = null;
            if (got.length != want.shape().rank()) fix = "feed a tensor of rank " + want.shape().rank();
            for (int i = 0; fix == null && i < got.length; i++)
                if (want.shape().dim(i).isFixed() && want.shape().dim(i).sizeOr(-1) != got[i])
                    fix = "dimension " + i + " must be " + want.shape().dim(i).sizeOr(-1);
            if (fix != null)
                return new GaleException("input '" + v.name() + "' is " + t.type() + " but the model declares " + want
                        + "; " + fix + " (" + e.getMessage() + ")", e);
        }
        return e;
    }
}
