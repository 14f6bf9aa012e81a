import { describe, expect, it } from "vitest";
import { cutAtSpaces, embedWhole, windowsOf } from "../../src/encoders/whole.js";
import { useEncoder } from "../helpers/tiers.js";

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/** A long passage (well over USE-Lite's 128 tokens), then a question of the same shape each time. */
const passage = Array.from({ length: 30 }, (_, i) => `The committee met on day ${i} and reviewed the quarterly budget of the regional office.`).join(" ");
const askCapital = `${passage} Question: name the capital of France.`;
const askAuthor = `${passage} Question: name the author of Othello.`;

describe("embedding a whole text", () => {
  it("cuts at spaces into pieces within the limit, and leaves a text that fits alone", () => {
    const words = (piece: string) => piece.split(/\s+/).filter(Boolean).length;
    expect(cutAtSpaces("a b c d e", 2, words)).toEqual(["a b", "c d", "e"]);
    expect(cutAtSpaces("a  b\n c", 5, words)).toEqual(["a  b\n c"]);
    expect(cutAtSpaces("short averyveryverylongword x", 1, (p) => (p.includes("long") ? 9 : words(p)))).toEqual(["short", "averyveryverylongword", "x"]);
  });

  it("USE-Lite reads only a long prompt's first 128 tokens: two prompts that differ in their last question embed alike, whole they do not", async () => {
    const encoder = await useEncoder();
    const pieces = windowsOf(encoder, askCapital);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join(" ")).toBe(askCapital.split(/\s+/).join(" "));
    const [a, b] = await encoder.embed([askCapital, askAuthor]);
    expect(cosine(a, b)).toBeGreaterThan(0.99999); // the questions fall past the 128th token
    const [wa, wb] = await embedWhole(encoder, [askCapital, askAuthor]);
    expect(cosine(wa, wb)).toBeLessThan(0.999);
    expect(Math.hypot(...wa)).toBeCloseTo(1, 5);
  });

  it("a text that fits only when counted word by word is still itself: it embeds alike alone and beside long ones", async () => {
    // Whole, "x\ny" counts more tokens than its words do apart (the newline is a piece of its own).
    const count = (piece: string) => piece.split(/\s+/).length + (piece.match(/\n/g)?.length ?? 0);
    expect(cutAtSpaces("a\nb\nc", 3, count)).toEqual(["a\nb\nc"]);
    const encoder = await useEncoder();
    const near = `${"word ".repeat(60)}\n${"more ".repeat(60)}`.trim();
    const [alone] = await embedWhole(encoder, [near]);
    const [, beside] = await embedWhole(encoder, [askCapital, near]);
    expect(Math.max(...alone.map((v, i) => Math.abs(v - beside[i])))).toBeLessThan(1e-6);
  });

  it("a text that fits is embedded exactly as embed embeds it, and progress counts texts", async () => {
    const encoder = await useEncoder();
    const texts = ["what is the capital of Peru?", askCapital, "hello"];
    const steps: number[] = [];
    const whole = await embedWhole(encoder, texts, (n) => steps.push(n));
    const direct = await encoder.embed(texts);
    expect([...whole[0]]).toEqual([...direct[0]]);
    expect([...whole[2]]).toEqual([...direct[2]]);
    expect(steps.reduce((s, n) => s + n, 0)).toBe(texts.length);
  });
});
