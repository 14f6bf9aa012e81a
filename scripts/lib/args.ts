/** @module Command-line options of the benchmark and load scripts: `--name value`, or a fallback. */

/** The value after `--name` on the command line, else `fallback`. */
export function arg(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}
