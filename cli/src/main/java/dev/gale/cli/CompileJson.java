package dev.gale.cli;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the artifacts passes leave in the pass context (the memory plan) into stable JSON without knowing their
 * classes: a public {@code String toJson()} method is used as it is; otherwise records become objects (fields
 * in declaration order), maps objects with sorted keys, collections and arrays lists, enums their names, and
 * anything else its {@code toString()}.
 */
final class CompileJson {
    private CompileJson() {}

    static String planText(Object plan) {
        try {
            Method m = plan.getClass().getMethod("toJson");
            if (m.getReturnType() == String.class) {
                String s = (String) m.invoke(plan);
                return s.endsWith("\n") ? s : s + "\n";
            }
        } catch (NoSuchMethodException e) {
            // no JSON form of its own: convert its structure
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the memory plan's toJson() failed: " + e, e);
        }
        return Json.write(jsonable(plan));
    }

    static Object jsonable(Object o) {
        return switch (o) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Number n -> n;
            case Character c -> c.toString();
            case Enum<?> e -> e.name();
            case Map<?, ?> m -> {
                Map<String, Object> r = new TreeMap<>();
                m.forEach((k, v) -> r.put(String.valueOf(k), jsonable(v)));
                yield r;
            }
            case Collection<?> c -> c.stream().map(CompileJson::jsonable).toList();
            case Record r -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (RecordComponent rc : r.getClass().getRecordComponents()) {
                    try {
                        rc.getAccessor().setAccessible(true);
                        m.put(rc.getName(), jsonable(rc.getAccessor().invoke(r)));
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        m.put(rc.getName(), String.valueOf(e));
                    }
                }
                yield m;
            }
            default -> {
                if (!o.getClass().isArray()) yield o.toString();
                List<Object> l = new ArrayList<>();
                for (int i = 0; i < Array.getLength(o); i++) l.add(jsonable(Array.get(o, i)));
                yield l;
            }
        };
    }
}
