package dev.gale.cli.conformance;

import dev.gale.ir.DType;
import dev.gale.ir.OptionalValue;
import dev.gale.ir.Tensor;
import dev.gale.ir.TensorSequence;

import java.util.Arrays;

/**
 * The ONNX backend tests' comparison: same element type and shape, strings equal, and numbers within
 * {@code |actual - expected| <= atol + rtol * |expected|} (numpy's assert_allclose), NaN matching NaN.
 * Returns null when the values match, else a message saying where they differ.
 */
public final class Allclose {
    private Allclose() {}

    public static String compare(Object expected, Object actual, double rtol, double atol) {
        if (expected instanceof Tensor e) {
            if (!(actual instanceof Tensor a)) return "expected a tensor, got " + describe(actual);
            return compareTensors(e, a, rtol, atol);
        }
        if (expected instanceof TensorSequence es) {
            if (!(actual instanceof TensorSequence as)) return "expected a sequence, got " + describe(actual);
            if (es.tensors().size() != as.tensors().size())
                return "sequence length " + as.tensors().size() + ", expected " + es.tensors().size();
            for (int i = 0; i < es.tensors().size(); i++) {
                String m = compareTensors(es.tensors().get(i), as.tensors().get(i), rtol, atol);
                if (m != null) return "sequence element " + i + ": " + m;
            }
            return null;
        }
        if (expected instanceof OptionalValue eo) {
            if (!(actual instanceof OptionalValue ao)) return "expected an optional, got " + describe(actual);
            if (eo.isPresent() != ao.isPresent()) return "optional presence differs";
            return eo.isPresent() ? compare(eo.value(), ao.value(), rtol, atol) : null;
        }
        return "cannot compare " + describe(expected);
    }

    private static String describe(Object o) { return o == null ? "nothing" : o.getClass().getSimpleName(); }

    static String compareTensors(Tensor e, Tensor a, double rtol, double atol) {
        if (e.dtype() != a.dtype()) return "element type " + a.dtype() + ", expected " + e.dtype();
        if (!Arrays.equals(e.shape(), a.shape()))
            return "shape " + Arrays.toString(a.shape()) + ", expected " + Arrays.toString(e.shape());
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < e.numel(); i++) {
            boolean ok;
            if (e.dtype() == DType.STRING) ok = e.getString(i).equals(a.getString(i));
            else if (e.dtype().isFloat() || e.dtype() == DType.COMPLEX64 || e.dtype() == DType.COMPLEX128) {
                ok = close(e.getDouble(i), a.getDouble(i), rtol, atol);
                if (ok && (e.dtype() == DType.COMPLEX64 || e.dtype() == DType.COMPLEX128))
                    ok = closeImag(e, a, i, rtol, atol);
                if (!ok) worst = Math.max(worst, Math.abs(e.getDouble(i) - a.getDouble(i)));
            } else ok = e.getLong(i) == a.getLong(i);
            if (!ok) {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad == 0) return null;
        String ev = e.dtype() == DType.STRING ? e.getString(first) : Double.toString(e.getDouble(first));
        String av = a.dtype() == DType.STRING ? a.getString(first) : Double.toString(a.getDouble(first));
        return bad + " of " + e.numel() + " elements differ; first at flat index " + first + ": got " + av
                + ", expected " + ev + (worst > 0 ? "; max abs diff " + worst : "");
    }

    private static boolean closeImag(Tensor e, Tensor a, int i, double rtol, double atol) {
        double ei, ai;
        if (e.data() instanceof float[] ef) {
            ei = ef[2 * i + 1];
            ai = ((float[]) a.data())[2 * i + 1];
        } else {
            ei = ((double[]) e.data())[2 * i + 1];
            ai = ((double[]) a.data())[2 * i + 1];
        }
        return close(ei, ai, rtol, atol);
    }

    static boolean close(double expected, double actual, double rtol, double atol) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) return Double.isNaN(expected) && Double.isNaN(actual);
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) return expected == actual;
        return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
    }
}
