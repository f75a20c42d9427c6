/**
 * Generate avatars with the per-pixel MLE model (part 2): fit on a folder of avatars, write PNG samples that keep
 * their transparency; file names carry the sampler and the seed, so a rerun regenerates them byte for byte.
 *
 *   npm run avatars -- --out avatars --count 5 --seed 1          # the five committed avatars
 *   npm run avatars -- --sampler uniform --whole-pixel --size 64x64 --out /tmp/a
 */
import * as fs from "node:fs";
import { generateAvatars } from "../lib/avatars/avatars";
import { parseCommand, runMain, UsageError } from "./options";

export const AVATARS_COMMAND = {
  name: "avatars",
  summary: "Sample new avatars from the per-pixel, per-channel MLE model of a folder of avatars.",
  usage: "npm run avatars -- [--out avatars] [--count 5] [--seed 1] [options]",
  options: {
    out: { type: "string", default: "avatars", help: "folder to write the PNGs into (created)" },
    count: { type: "int", min: 1, max: 10_000, default: 5, help: "how many avatars" },
    seed: {
      type: "int",
      min: 0,
      max: 2 ** 31 - 1,
      default: 1,
      help: "seed of the first avatar (the next ones count up)",
    },
    sampler: {
      type: "choice",
      choices: ["weighted", "uniform"],
      default: "weighted",
      help: "the MLE categorical, or uniform over the values seen",
    },
    "whole-pixel": { type: "boolean", help: "draw RGBA together, so every colour is a real one" },
    size: { type: "string", help: "WIDTHxHEIGHT to resize the avatars to before fitting (e.g. 64x64)" },
    data: { type: "string", help: "folder of avatar PNGs (default: data/avatars or ../shared/data/avatars)" },
  },
} as const;

async function main() {
  const { values } = parseCommand(AVATARS_COMMAND);
  const m = values.size?.match(/^(\d+)x(\d+)$/);
  if (values.size && (!m || Number(m[1]) < 1 || Number(m[2]) < 1))
    throw new UsageError(`--size "${values.size}": must look like WIDTHxHEIGHT, e.g. 64x64`);
  if (values.data && !fs.existsSync(values.data)) throw new UsageError(`--data ${values.data}: no such folder`);
  const files = await generateAvatars({
    data: values.data,
    out: values.out,
    count: values.count,
    seed: values.seed,
    sampler: values.sampler,
    wholePixel: values["whole-pixel"],
    size: m ? { width: Number(m[1]), height: Number(m[2]) } : undefined,
  });
  console.log(files.join("\n"));
}

if (require.main === module) runMain(main);
