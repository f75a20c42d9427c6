// The crop sizes quoted in experiments/PROTOCOL-2.md (experiment 6): width × height of train/, proliv/ and test
// images, from the JPEG headers; no label is read.
// Run: node --import tsx experiments/crop-sizes.ts   (output: crop-sizes.log)
import sharp from "sharp";
import { listWells } from "../lib/detector/wells";
import { resolveData } from "../lib/common/paths";

async function summary(name: string, files: string[]) {
  let w = 0,
    h = 0;
  const counts = new Map<string, number>();
  for (const f of files) {
    const m = await sharp(f).metadata();
    w += m.width!;
    h += m.height!;
    counts.set(`${m.width}x${m.height}`, (counts.get(`${m.width}x${m.height}`) ?? 0) + 1);
  }
  const top = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => `${k} ${((100 * v) / files.length).toFixed(1)} %`);
  console.log(
    `${name}: ${files.length} images, mean ${(w / files.length).toFixed(1)}×${(h / files.length).toFixed(1)} px; ` +
      `most common ${top.join(", ")}`,
  );
}

(async () => {
  const list = listWells(resolveData("wells"));
  await summary(
    "train",
    list.train.map((x) => x.file),
  );
  await summary(
    "proliv",
    list.spill.map((x) => x.file),
  );
  await summary(
    "test (unlabelled)",
    list.test.map((x) => x.file),
  );
})();
