package dev.gale.ir.op;

import dev.gale.ir.Attr;

/** One attribute of an op: its name, kind, and default ({@code null} when required or when absence has meaning). */
public record AttrSpec(String name, Attr.Kind kind, Attr defaultValue, boolean required) {}
