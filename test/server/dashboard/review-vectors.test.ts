/**
 * The review queue's embeddings kept between page loads, with the real USE encoder: a second load embeds
 * only the texts the first did not, answers the rest with the same vectors, and another encoder starts
 * from nothing.
 */
import { expect, it } from "vitest";
import type { Encoder } from "../../../src/encoders/types.js";
import { ReviewVectors } from "../../../src/server/dashboard/review-vectors.js";
import { tierExamples, useEncoder } from "../../helpers/tiers.js";

/** The encoder, counting the texts it is asked to embed. */
function counting(inner: Encoder, fingerprint = inner.fingerprint): { encoder: Encoder; embedded: string[] } {
  const embedded: string[] = [];
  return {
    embedded,
    encoder: {
      id: inner.id,
      dimensions: inner.dimensions,
      fingerprint,
      embed: (texts) => {
        embedded.push(...texts);
        return inner.embed(texts);
      },
    },
  };
}

it("embeds only the texts a previous load did not, and forgets them for another encoder", async () => {
  const use = await useEncoder();
  const texts = tierExamples("test", 5).map((e) => e.text);
  const first = texts.slice(0, 12);
  const second = [...texts.slice(6, 20), texts[6]];
  const vectors = new ReviewVectors();
  const a = counting(use);
  await vectors.wrap(a.encoder).embed(first);
  expect(a.embedded).toEqual(first);

  const b = counting(use);
  const got = await vectors.wrap(b.encoder).embed(second);
  expect(b.embedded).toEqual(texts.slice(12, 20));
  const direct = await use.embed(second);
  // The same vectors up to float rounding: a batch's shape (which texts share a run) moves the last digits.
  expect(got).toHaveLength(direct.length);
  got.forEach((v, i) => expect(Math.max(...v.map((x, j) => Math.abs(x - direct[i][j])))).toBeLessThan(1e-6));

  const other = counting(use, "another-encoder");
  await vectors.wrap(other.encoder).embed(first);
  expect(other.embedded).toEqual(first);
});
