package dev.gale.torture.train;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npz;
import dev.gale.torture.GaleCli.Result;
import dev.gale.torture.PyTorchModelsTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.torture.GaleCli.gale;
import static org.junit.jupiter.api.Assertions.*;

/** Checkpoints: an interrupted-and-resumed run logs exactly the uninterrupted losses; bad checkpoints are refused. */
class CheckpointResumeTest {
    @TempDir
    static Path tmp;
    static Path model, data;

    @BeforeAll
    static void setUp() throws IOException {
        model = PyTorchModelsTest.model("mlp").resolve("model.onnx");
        Random r = new Random(5);
        Tensor x = Tensor.zeros(DType.FLOAT32, 40, 784);
        for (int i = 0; i < x.numel(); i++) x.setDouble(i, r.nextGaussian());
        Tensor y = Tensor.zeros(DType.INT64, 40);
        for (int i = 0; i < 40; i++) y.setLong(i, r.nextInt(10));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("x", x);
        arrays.put("y", y);
        data = tmp.resolve("data.npz");
        Files.write(data, Npz.write(arrays));
    }

    static Result train(String... extra) {
        List<String> args = new ArrayList<>(List.of("train", model.toString(), "--data", data.toString(), "--feed", "x=x",
                "--loss", "cross-entropy", "--batch-size", "8", "--seed", "3"));
        List<String> more = List.of(extra);
        if (!more.contains("--optimizer")) args.addAll(List.of("--optimizer", "adam"));
        if (!more.contains("--labels")) args.addAll(List.of("--labels", "y"));
        args.addAll(more);
        return gale(args);
    }

    @Test
    void resumedRunLogsTheSameLossesAsAnUninterruptedOne() throws IOException {
        Path full = tmp.resolve("full.csv"), part = tmp.resolve("part.csv"), ck = tmp.resolve("ck");
        Result a = train("--steps", "12", "--loss-log", full.toString(), "--out", tmp.resolve("a.onnx").toString());
        assertEquals(0, a.code(), a.err());
        Result b = train("--steps", "9", "--loss-log", part.toString(), "--checkpoint-dir", ck.toString(),
                "--checkpoint-every", "4", "--out", tmp.resolve("b.onnx").toString());
        assertEquals(0, b.code(), b.err());
        // the run "crashed" after step 9, before its final checkpoint was durable: resume from step 8
        Files.delete(ck.resolve("ckpt-000000009.gale"));
        Result c = train("--steps", "12", "--loss-log", part.toString(), "--resume", ck.toString(),
                "--checkpoint-every", "4", "--out", tmp.resolve("c.onnx").toString());
        assertEquals(0, c.code(), c.err());
        assertEquals(Files.readString(full), Files.readString(part));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a.onnx")), Files.readAllBytes(tmp.resolve("c.onnx")));
    }

    @Test
    void corruptAndMismatchedCheckpointsAreRefused() throws IOException {
        Path ck = tmp.resolve("ck2");
        Result b = train("--steps", "2", "--checkpoint-dir", ck.toString(), "--checkpoint-every", "1",
                "--out", tmp.resolve("d.onnx").toString());
        assertEquals(0, b.code(), b.err());
        Result other = train("--steps", "4", "--resume", ck.toString(), "--optimizer", "sgd",
                "--out", tmp.resolve("e.onnx").toString());
        assertNotEquals(0, other.code());
        assertTrue(other.err().contains("cannot resume"), other.err());
        Path newest = ck.resolve("ckpt-000000002.gale");
        try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int v = f.read();
            f.seek(f.length() / 2);
            f.write(v ^ 0xff);
        }
        Result corrupt = train("--steps", "4", "--resume", ck.toString(), "--out", tmp.resolve("f.onnx").toString());
        assertNotEquals(0, corrupt.code());
        assertTrue(corrupt.err().contains("corrupt"), corrupt.err());
        assertTrue(Files.exists(ck.resolve("ckpt-000000001.gale")), "the older good checkpoint is kept");
    }

    @Test
    void nonFiniteLossStopsWithStepAndTensorAndKeepsTheLastCheckpoint() throws IOException {
        Random r = new Random(9);
        Tensor x = Tensor.zeros(DType.FLOAT32, 16, 784);
        for (int i = 0; i < x.numel(); i++) x.setDouble(i, r.nextGaussian());
        x.setDouble(8 * 784 + 3, Double.POSITIVE_INFINITY); // row 8: first used at step 2 with batch 8
        Tensor y = Tensor.zeros(DType.INT64, 16);
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("x", x);
        arrays.put("y", y);
        Path bad = tmp.resolve("bad.npz");
        Files.write(bad, Npz.write(arrays));
        Path ck = tmp.resolve("ck3");
        List<String> args = new ArrayList<>(List.of("train", model.toString(), "--data", bad.toString(), "--feed", "x=x",
                "--labels", "y", "--loss", "cross-entropy", "--optimizer", "sgd", "--batch-size", "8", "--steps", "4",
                "--no-shuffle", "--checkpoint-dir", ck.toString(), "--checkpoint-every", "1",
                "--out", tmp.resolve("nan.onnx").toString()));
        Result run = gale(args);
        assertNotEquals(0, run.code());
        assertTrue(run.err().contains("step 2: the loss is NaN"), run.err());
        assertTrue(run.err().contains("first non-finite value in tensor"), run.err());
        assertTrue(Files.exists(ck.resolve("ckpt-000000001.gale")), "the last good checkpoint is kept");
        assertFalse(Files.exists(tmp.resolve("nan.onnx")), "no trained model is written for a failed run");
    }

    @Test
    void aFailingCheckpointWriteLeavesTheLastGoodOne() throws IOException {
        Path ck = tmp.resolve("ck4");
        Files.createDirectories(ck);
        Files.writeString(ck.resolve("ckpt-000000001.gale"), "the last good checkpoint");
        Path blocked = ck.resolve("ckpt-000000002.gale");
        Files.createDirectories(blocked); // a folder where the new file should go: the rename must fail
        var e = assertThrows(dev.gale.ir.GaleException.class,
                () -> dev.gale.onnx.AtomicFiles.write(blocked, new byte[] {1, 2, 3}));
        assertTrue(e.getMessage().contains("cannot write"), e.getMessage());
        assertEquals("the last good checkpoint", Files.readString(ck.resolve("ckpt-000000001.gale")));
        try (var s = Files.list(ck)) {
            assertEquals(2, s.count(), "no temporary file is left behind");
        }
    }

    @Test
    void badFeedsAndLabelsGetClearErrors() {
        Result wrongInput = train("--steps", "1", "--feed", "nope=x", "--out", tmp.resolve("g.onnx").toString());
        assertNotEquals(0, wrongInput.code());
        assertTrue(wrongInput.err().contains("'nope' is not an input"), wrongInput.err());
        Result wrongArray = train("--steps", "1", "--labels", "zz", "--out", tmp.resolve("h.onnx").toString());
        assertTrue(wrongArray.err().contains("'zz' is not in the data"), wrongArray.err());
    }
}
