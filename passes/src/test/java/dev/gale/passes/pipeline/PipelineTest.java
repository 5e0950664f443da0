package dev.gale.passes.pipeline;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Pipeline ordering: a pass's requirements must hold when it runs, and a schedule or memory plan must not be left
 * describing a graph that a later pass rewrote.
 */
class PipelineTest {
    private static final Set<Property> INPUT = EnumSet.of(Property.TYPED);

    private static GaleException rejected(String spec) {
        return assertThrows(GaleException.class, () -> PassRegistry.parse(spec).check(INPUT), spec);
    }

    private static void accepted(String spec) { assertDoesNotThrow(() -> PassRegistry.parse(spec).check(INPUT), spec); }

    @Test
    void planMemoryBeforeARewriteWithoutReschedulingIsRejected() {
        String m = rejected("simplify,schedule,plan-memory,fuse-patterns").getMessage();
        assertTrue(m.contains("pass 'fuse-patterns' invalidates MEMORY_PLANNED, which 'plan-memory' established"), m);
        assertTrue(m.contains("would describe the graph before 'fuse-patterns'"), m);
        assertTrue(m.contains("run one of [plan-memory, remat] (which need [SCHEDULED]) after 'fuse-patterns'"), m);

        m = rejected("schedule,plan-memory,simplify,plan-memory").getMessage();
        assertTrue(m.contains("pass 'plan-memory' needs SCHEDULED, which 'simplify' invalidated after 'schedule'"
                + " established it; run one of [remat, schedule] after 'simplify'"), m);

        accepted("schedule,plan-memory,simplify,schedule,plan-memory");
        accepted("simplify,fuse-patterns,partition,schedule,plan-memory");
        accepted("simplify,fuse-patterns,partition,schedule,plan-memory,remat");
    }

    @Test
    void everyRewritingPassDeclaresWhatItBreaks() {
        for (String name : PassRegistry.names()) {
            if (name.equals("plan-memory")) continue; // only reads the graph
            Pass p = PassRegistry.get(name);
            assertTrue(p.invalidates().contains(Property.MEMORY_PLANNED), name + " must invalidate MEMORY_PLANNED");
            if (!name.equals("schedule"))
                assertTrue(p.invalidates().contains(Property.SCHEDULED), name + " must invalidate SCHEDULED");
            if (p.establishes().contains(Property.MEMORY_PLANNED)) continue; // remat plans again itself
            String m = rejected("schedule,plan-memory," + name).getMessage();
            assertTrue(m.contains("'" + name + "' invalidates MEMORY_PLANNED"), m);
        }
    }

    @Test
    void aPassNeedingWhatNoPassEstablishesIsRejected() {
        String m = rejected("plan-memory").getMessage();
        assertTrue(m.contains("'plan-memory' needs SCHEDULED, which no earlier pass establishes; run one of"
                + " [remat, schedule] earlier"), m);
    }

    @Test
    void runChecksBeforeRunningAnyPass() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 4);
        b.output(b.relu(b.relu(x)));
        Graph g = b.build();
        PassContext ctx = new PassContext(Map.of());
        assertThrows(GaleException.class, () -> PassRegistry.parse("schedule,plan-memory,cse").run(g, ctx, true, null));
        assertTrue(ctx.counters().isEmpty(), "nothing ran: " + ctx.counters());
        List<PassReport> r = PassRegistry.parse("cse,schedule,plan-memory").run(g, ctx, true, null).reports();
        assertEquals(3, r.size());
    }
}
