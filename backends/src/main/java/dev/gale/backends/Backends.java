package dev.gale.backends;

import dev.gale.ir.GaleException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends by name through {@link ServiceLoader}. */
public final class Backends {
    private Backends() {}

    public static List<Backend> all() {
        List<Backend> r = new ArrayList<>();
        ServiceLoader.load(Backend.class).forEach(r::add);
        return r;
    }

    public static Backend get(String name) {
        List<Backend> all = all();
        for (Backend b : all) if (b.name().equals(name)) return b;
        throw new GaleException("unknown backend '" + name + "'; available: "
                + String.join(", ", all.stream().map(Backend::name).toList()));
    }
}
