import { type Command, Option } from "commander";
import { PULL_DTYPES, PULLABLE_MODELS, pullModel, type PullDtype } from "../../encoders/onnx/pull.js";
import { ENCODERS_DIR } from "../../encoders/resolve.js";
import { info } from "../output.js";

export function registerModel(program: Command): void {
  const model = program.command("model").description("manage sentence-encoder weights");
  model
    .command("pull")
    .description(
      `download encoder weights at a pinned revision with @huggingface/transformers' hub code (needs network; honours HF_ENDPOINT). Models: ${PULLABLE_MODELS.join(", ")}`,
    )
    .argument("<name>", "model name")
    .addOption(new Option("--dtype <dtype>", "which ONNX file: q8 (int8, ~23 MB) or fp32 (~90 MB)").choices(PULL_DTYPES).default("q8"))
    .option("--fp32", "same as --dtype fp32")
    .option("--dest <dir>", "the encoder cache (laid out <repo>/<revision>/)", ENCODERS_DIR)
    .option("--force", "download again even when the files are present with their recorded digests")
    .action(async (name: string, opts: { dtype: PullDtype; fp32?: boolean; dest: string; force?: boolean }) => {
      const result = await pullModel(name, { dtype: opts.fp32 ? "fp32" : opts.dtype, dest: opts.dest, force: opts.force });
      info(`${name}: ${result.files.length} files in ${result.dir}`);
    });
}
