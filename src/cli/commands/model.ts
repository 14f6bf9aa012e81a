import type { Command } from "commander";
import { PULLABLE_MODELS, pullModel } from "../../encoders/pull.js";
import { ENCODERS_DIR } from "../../encoders/resolve.js";
import { info } from "../output.js";

export function registerModel(program: Command): void {
  const model = program.command("model").description("manage sentence-encoder weights");
  model
    .command("pull")
    .description(`download encoder weights (needs network; honours HF_ENDPOINT). Models: ${PULLABLE_MODELS.join(", ")}`)
    .argument("<name>", "model name")
    .option("--fp32", "the full-precision ONNX file (~90 MB) instead of the int8 one")
    .option("--dest <dir>", "where encoders live", ENCODERS_DIR)
    .option("--force", "download again even when the files are present")
    .action(async (name: string, opts: { fp32?: boolean; dest: string; force?: boolean }) => {
      const result = await pullModel(name, { fp32: opts.fp32, dest: opts.dest, force: opts.force });
      info(`${name}: ${result.files.length} files in ${result.dir}`);
    });
}
