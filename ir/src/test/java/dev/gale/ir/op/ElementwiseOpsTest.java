package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Type inference and schemas of the elementwise entries. */
class ElementwiseOpsTest {
    private static String type(Value v) { return v.type().toString(); }

    private static void assertError(String fragment, Runnable r) {
        GaleException e = assertThrows(GaleException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void broadcastingKeepsSymbolsAndComparisonsGiveBool() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 1, 4);
        Value y = b.input("y", DType.FLOAT32, 3, 1);
        assertEquals("tensor<[batch,3,4],f32>", type(b.add(x, y)));
        assertEquals("tensor<[batch,3,4],bool>", type(b.op("Less", List.of(x, y), Map.of())));
        Value z = b.input("z", DType.FLOAT32, 2);
        Value w = b.input("w", DType.FLOAT32);
        assertEquals("tensor<[batch,3,4],f32>", type(b.op("Max", List.of(x, y, w), Map.of())));
        assertError("do not broadcast", () -> b.op("Sum", List.of(x, y, z), Map.of()));
    }

    @Test
    void elementTypesAreChecked() {
        GraphBuilder b = Graph.builder();
        Value f = b.input("f", DType.FLOAT32, 2), i = b.input("i", DType.INT64, 2), u = b.input("u", DType.UINT8, 2);
        assertError("same element type", () -> b.add(f, i));
        assertError("floating-point", () -> b.op("Sin", List.of(i), Map.of()));
        assertError("signed", () -> b.op("Relu", List.of(u), Map.of()));
        assertError("bool", () -> b.op("And", List.of(f, f), Map.of()));
        assertError("unsigned", () -> b.op("BitShift", List.of(i, i), Map.of("direction", Attr.of("LEFT"))));
        assertEquals("tensor<[2],i64>", type(b.op("Abs", List.of(i), Map.of())));
        assertEquals("tensor<[2],u8>", type(b.op("BitwiseNot", List.of(u), Map.of())));
    }

    @Test
    void powHasTheBaseType() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.INT32, 3), e = b.input("e", DType.FLOAT32);
        assertEquals("tensor<[3],i32>", type(b.op("Pow", List.of(x, e), Map.of())));
    }

    @Test
    void whereTakesXsTypeAndBroadcastsAllThree() {
        GraphBuilder b = Graph.builder();
        Value c = b.input("c", DType.BOOL, 2, 1), x = b.input("x", DType.INT64, 3), y = b.input("y", DType.INT64);
        assertEquals("tensor<[2,3],i64>", type(b.op("Where", List.of(c, x, y), Map.of())));
        assertError("bool", () -> b.op("Where", List.of(x, x, y), Map.of()));
        assertError("same element type", () -> b.op("Where", List.of(c, x, b.input("f", DType.FLOAT32)), Map.of()));
    }

    @Test
    void castsAndCastLike() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 2);
        assertEquals("tensor<[n,2],str>",
                type(b.op("Cast", List.of(x), Map.of("to", Attr.of((long) DType.STRING.onnxCode())))));
        assertEquals("tensor<[n,2],f16>", type(b.op("CastLike", List.of(x, b.input("h", DType.FLOAT16)), Map.of())));
        assertError("not a supported element type", () -> b.op("Cast", List.of(x), Map.of("to", Attr.of(99L))));
        // Cast's opset-19 attribute 'saturate' is not declared.
        assertEquals(List.of("to"), List.copyOf(OpTable.lookup("", "Cast").attrs().keySet()));
        assertTrue(OpTable.lookup("", "CastLike").attrs().isEmpty());
    }

    @Test
    void clipBoundsMustBeScalarsOfXsType() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.INT8, 4), lo = b.input("lo", DType.INT8);
        assertEquals("tensor<[4],i8>", type(b.op("Clip", List.of(x, Value.NONE, lo), Map.of())));
        assertError("scalar", () -> b.op("Clip", List.of(x, b.input("v", DType.INT8, 2)), Map.of()));
        assertError("same element type", () -> b.op("Clip", List.of(x, b.input("f", DType.FLOAT32)), Map.of()));
    }

    @Test
    void preluSlopeMustBroadcastToX() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        assertEquals("tensor<[2,3],f32>", type(b.op("PRelu", List.of(x, b.input("s", DType.FLOAT32, 3)), Map.of())));
        assertError("does not broadcast", () -> b.op("PRelu", List.of(b.input("x1", DType.FLOAT32, 1, 3), x),
                Map.of()));
        assertError("higher rank", () -> b.op("PRelu", List.of(x, b.input("u", DType.FLOAT32, 1, 1, 3)), Map.of()));
    }

    @Test
    void schemasDeclareOnnxAttributesAndCategories() {
        OpSchema gelu = OpTable.lookup("", "Gelu");
        assertEquals("none", Attrs.asString(gelu.attr("approximate").defaultValue(), null, "approximate"));
        assertEquals(FusionCategory.ELEMENTWISE, gelu.category());
        assertEquals(FusionCategory.BROADCAST, OpTable.lookup("", "Add").category());
        assertEquals(OpSchema.VARIADIC, OpTable.lookup("", "Mean").maxInputs());
        assertTrue(OpTable.lookup("", "BitShift").attr("direction").required());
        assertEquals(0.2f, ((Attr.FloatAttr) OpTable.lookup("", "HardSigmoid").attr("alpha").defaultValue()).value());
        assertNull(OpTable.lookup("", "IsInf").attr("alpha"));
        for (String op : List.of("Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "BitShift",
                "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "Cast", "CastLike", "Ceil", "Celu", "Clip",
                "Cos", "Cosh", "Div", "Elu", "Equal", "Erf", "Exp", "Floor", "Gelu", "Greater", "GreaterOrEqual",
                "HardSigmoid", "HardSwish", "IsInf", "IsNaN", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean",
                "Min", "Mish", "Mod", "Mul", "Neg", "Not", "Or", "Pow", "PRelu", "Reciprocal", "Relu", "Round", "Selu",
                "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt", "Sub", "Sum", "Tan", "Tanh",
                "ThresholdedRelu", "Where", "Xor"))
            assertTrue(OpTable.lookup("", op) != null, op);
    }

    @Test
    void constantInputsDoNotChangeTheRules() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        assertEquals("tensor<[2],f32>", type(b.op("Mul", List.of(x, b.constant(Tensor.scalar(DType.FLOAT32, 2))),
                Map.of())));
    }
}
