import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    // Native addons (onnxruntime, hnswlib, sqlite) are heavy: keep forks few on 2 cores.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Removes the folders test/helpers/temp.ts made, as each test file ends.
    setupFiles: ["./test/setup/remove-temp.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/package/**"] } },
      // Packs and installs the package (native modules compile): minutes, so it runs after the rest,
      // alone. TRIAGE_SKIP_PACKAGE_TEST=1 skips it locally; never in CI (CI=true).
      { extends: true, test: { name: "package", include: ["test/package/**/*.test.ts"], sequence: { groupOrder: 1 } } },
    ],
  },
});
