package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: string and text-feature ops (StringNormalizer, TfIdfVectorizer). */
final class TextOps {
    private TextOps() {}

    static void register() {
        define("StringNormalizer").inputs(1).outputs(1).category(OPAQUE).attr("case_change_action", "NONE")
                .attr("is_case_sensitive", 0L).optional("locale", Attr.Kind.STRING)
                .optional("stopwords", Attr.Kind.STRINGS).infer(TextOps::inferStringNormalizer).register();
        define("TfIdfVectorizer").inputs(1).outputs(1).category(OPAQUE).required("max_gram_length", Attr.Kind.INT)
                .required("max_skip_count", Attr.Kind.INT).required("min_gram_length", Attr.Kind.INT)
                .required("mode", Attr.Kind.STRING).required("ngram_counts", Attr.Kind.INTS)
                .required("ngram_indexes", Attr.Kind.INTS).optional("pool_int64s", Attr.Kind.INTS)
                .optional("pool_strings", Attr.Kind.STRINGS).optional("weights", Attr.Kind.FLOATS)
                .infer(TextOps::inferTfIdf).register();
    }

    /** Input [C] or [1, C]; stopwords removal makes the output length data-dependent (at least 1). */
    private static List<Type> inferStringNormalizer(InferContext c) {
        if (c.dtype(0) != DType.STRING) throw c.error("the input must be a string tensor, got " + c.dtype(0));
        String action = c.attrString("case_change_action");
        if (!List.of("NONE", "LOWER", "UPPER").contains(action))
            throw c.error("case_change_action must be NONE, LOWER or UPPER, got '" + action + "'");
        Shape s = c.shape(0);
        if (s == null) return List.of(Type.unranked(DType.STRING));
        if (s.rank() != 1 && !(s.rank() == 2 && s.dim(0).sizeOr(1) == 1))
            throw c.error("the input must be [C] or [1, C], has shape " + s);
        boolean keepsAll = !(c.attr("stopwords") instanceof Attr.StringsAttr sw) || sw.values().isEmpty();
        Dim n = keepsAll && s.dim(s.rank() - 1).sizeOr(0) > 0 ? s.dim(s.rank() - 1) : Dim.UNKNOWN;
        return List.of(Type.tensor(DType.STRING, s.rank() == 1 ? Shape.of(n) : Shape.of(Dim.of(1), n)));
    }

    /** Output float32 [max(ngram_indexes) + 1], or [N, that] for a 2-D input. */
    private static List<Type> inferTfIdf(InferContext c) {
        String mode = c.attrString("mode");
        if (!List.of("TF", "IDF", "TFIDF").contains(mode)) throw c.error("mode must be TF, IDF or TFIDF, got '" + mode + "'");
        long min = c.attrInt("min_gram_length"), max = c.attrInt("max_gram_length");
        if (min < 1 || max < min) throw c.error("gram lengths must satisfy 1 <= min <= max, got " + min + ", " + max);
        boolean ints = c.hasAttr("pool_int64s"), strings = c.hasAttr("pool_strings");
        if (ints == strings) throw c.error("exactly one of pool_int64s and pool_strings must be set");
        DType in = c.dtype(0);
        if (strings ? in != DType.STRING : in != DType.INT32 && in != DType.INT64)
            throw c.error((strings ? "pool_strings needs a string input" : "pool_int64s needs an int32 or int64 input")
                    + ", got " + in);
        long width = 0;
        for (long i : c.attrInts("ngram_indexes")) {
            if (i < 0) throw c.error("ngram_indexes must not be negative, got " + i);
            width = Math.max(width, i + 1);
        }
        Shape s = c.shape(0);
        if (s == null) return List.of(Type.unranked(DType.FLOAT32));
        if (s.rank() == 1) return List.of(Type.tensor(DType.FLOAT32, Shape.of(Dim.of(width))));
        if (s.rank() == 2) return List.of(Type.tensor(DType.FLOAT32, Shape.of(s.dim(0), Dim.of(width))));
        throw c.error("the input must be 1-D or 2-D, has shape " + s);
    }
}
