/**
 * @module
 * The dashboard's static files, all shipped in the package (no CDN, works offline): uPlot's script and
 * stylesheet from its npm package, and the dashboard's own stylesheet and script from `assets/dashboard/`
 * (listed in package.json `files`). Read once, served with a content hash in their URL, so browsers
 * cache them for good and a new version is a new URL.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TriageError } from "../../common/errors.js";

interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

/** The package's own assets: `<package root>/assets/dashboard`, from src/ and from dist/ alike. */
const OWN_DIR = fileURLToPath(new URL("../../../assets/dashboard/", import.meta.url));

function uplotDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");
}

const SOURCES: Record<string, () => string> = {
  "uPlot.min.js": () => join(uplotDir(), "uPlot.iife.min.js"),
  "uPlot.min.css": () => join(uplotDir(), "uPlot.min.css"),
  "dashboard.css": () => join(OWN_DIR, "dashboard.css"),
  "dashboard.js": () => join(OWN_DIR, "dashboard.js"),
};

const TYPES: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };

let loaded: Map<string, Asset> | undefined;

function assets(): Map<string, Asset> {
  if (loaded) return loaded;
  const out = new Map<string, Asset>();
  for (const [name, path] of Object.entries(SOURCES)) {
    let body: Buffer;
    try {
      body = readFileSync(path());
    } catch (err) {
      throw new TriageError(`dashboard asset ${name} is missing from the installation (${(err as Error).message}); reinstall triage-router`);
    }
    out.set(name, { body, type: TYPES[name.split(".").pop()!], hash: createHash("sha256").update(body).digest("hex").slice(0, 12) });
  }
  loaded = out;
  return out;
}

/** The URL of an asset, versioned by its content. */
export function assetUrl(name: keyof typeof SOURCES | string): string {
  const a = assets().get(name);
  if (!a) throw new TriageError(`no dashboard asset called ${name}`);
  return `/dashboard/assets/${name}?v=${a.hash}`;
}

export function assetResponse(name: string): Response | undefined {
  const a = assets().get(name);
  if (!a) return undefined;
  return new Response(new Uint8Array(a.body), { headers: { "content-type": a.type, "cache-control": "public, max-age=31536000, immutable", etag: `"${a.hash}"` } });
}
