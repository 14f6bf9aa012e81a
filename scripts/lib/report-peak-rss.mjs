// Preloaded with `node --import` by benchmark scripts: prints the process's peak resident memory (worker
// threads included) to stderr as it exits, for the parent to read.
process.on("exit", () => process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\n`));
