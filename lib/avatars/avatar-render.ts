/**
 * Draw a course style (category -> option, as sampled in notebook 01) as an Avataaars avatar with DiceBear, and
 * rasterise it with sharp to an RGBA PNG with a transparent background. A folder of rendered styles is a training
 * folder for the pixel model in lib/avatars.ts.
 *
 *   import { renderStyle, renderStyles, cycleStyles } from "../dist/lib/avatars";
 *   const png = await renderStyle({ "прическа": "короткая прямые", "цвет волос": "черный", "аксесуар": "нет очков",
 *                                   "одежда": "худи", "цвет одежды": "синий" }, { size: 280, seed: 1 });
 *   await renderStyles(cycleStyles(20), "/tmp/styles-rendered", { size: { width: 132, height: 140 } });
 *
 * The style fixes hair, hair colour, glasses, clothing and its colour; everything the course's styles do not name
 * (skin, eyes, eyebrows, mouth, facial hair) is DiceBear's seeded choice, so the same style and seed give the same
 * picture. A category missing from the record, or null, is also left to the seed.
 * @dicebear/* are ESM-only: they are loaded with a real `import()` (tsc's node16 setting keeps it in CommonJS output).
 */
import * as path from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../common/atomic";

/** A style as lib/styles.ts produces it: category -> chosen option (null: not chosen). */
export type StyleRecord = Record<string, string | null>;

type AvataaarsOptions = Record<string, string[] | number>;

/**
 * Each course option as DiceBear avataaars options. Hair colours are Avataaars' own palette (the course's names are
 * its names: Black, Blonde, Brown, PastelPink, Red, SilverGray); clothes colours too, except green and orange,
 * which the palette only has as pastels, so plain colours are used instead.
 */
export const AVATAAARS_OPTIONS: Record<string, Record<string, AvataaarsOptions>> = {
  прическа: {
    "нет волос": { topProbability: 0 },
    "длинные в пучок": { top: ["bun"], topProbability: 100 },
    "длинные волнистые": { top: ["curvy"], topProbability: 100 },
    "длинные прямые": { top: ["straight01"], topProbability: 100 },
    "короткая волнистые": { top: ["shortWaved"], topProbability: 100 },
    "короткая прямые": { top: ["shortFlat"], topProbability: 100 },
    "короткая курчавые": { top: ["shortCurly"], topProbability: 100 },
  },
  "цвет волос": {
    черный: { hairColor: ["2c1b18"] },
    блонд: { hairColor: ["b58143"] },
    каштановый: { hairColor: ["724133"] },
    "пастельный розовый": { hairColor: ["f59797"] },
    рыжий: { hairColor: ["c93305"] },
    "серебристо серый": { hairColor: ["e8e1e1"] },
  },
  аксесуар: {
    "нет очков": { accessoriesProbability: 0 },
    "круглые очки": { accessories: ["round"], accessoriesProbability: 100 },
    "солнцезащитные очки": { accessories: ["sunglasses"], accessoriesProbability: 100 },
  },
  одежда: {
    худи: { clothing: ["hoodie"] },
    комбинезон: { clothing: ["overall"] },
    "футболка с круглым вырезом": { clothing: ["shirtCrewNeck"] },
    "футболка с V-вырезом": { clothing: ["shirtVNeck"] },
  },
  "цвет одежды": {
    черный: { clothesColor: ["262e33"] },
    синий: { clothesColor: ["5199e4"] },
    серый: { clothesColor: ["929598"] },
    зеленый: { clothesColor: ["4caf50"] },
    оранжевый: { clothesColor: ["ff9f43"] },
    розовый: { clothesColor: ["ff488e"] },
    красный: { clothesColor: ["ff5c5c"] },
    белый: { clothesColor: ["ffffff"] },
  },
};

/** The DiceBear options for a style; unknown categories or options are an error naming them and the valid ones. */
export function avataaarsOptions(style: StyleRecord): AvataaarsOptions {
  const options: AvataaarsOptions = { backgroundColor: ["transparent"] };
  for (const [category, option] of Object.entries(style)) {
    const byOption = AVATAAARS_OPTIONS[category];
    if (!byOption)
      throw new Error(`style: unknown category "${category}" (known: ${Object.keys(AVATAAARS_OPTIONS).join(", ")})`);
    if (option === null) continue;
    const mapped = byOption[option];
    if (!mapped)
      throw new Error(
        `style: unknown option "${option}" for category "${category}" (known: ${Object.keys(byOption).join(", ")})`,
      );
    Object.assign(options, mapped);
  }
  return options;
}

/**
 * n styles that go through every option of every category (option i mod count in each category), so that a small
 * rendered set shows all of them. A covering set for experiments, not the course's distribution (that is lib/styles).
 */
export function cycleStyles(n: number): StyleRecord[] {
  return Array.from({ length: n }, (_, i) =>
    Object.fromEntries(
      Object.entries(AVATAAARS_OPTIONS).map(([category, byOption]) => {
        const names = Object.keys(byOption);
        return [category, names[i % names.length]];
      }),
    ),
  );
}

const loadDicebear = () => Promise.all([import("@dicebear/core"), import("@dicebear/avataaars")]);
let dicebear: ReturnType<typeof loadDicebear> | null = null;

/** The SVG text of a style drawn by DiceBear avataaars (viewBox 280×280). */
export async function renderStyleSvg(style: StyleRecord, options: { seed?: number | string } = {}): Promise<string> {
  const avataaarsOpts = avataaarsOptions(style);
  dicebear ??= loadDicebear();
  const [core, avataaars] = await dicebear;
  return core.createAvatar(avataaars, { ...avataaarsOpts, seed: String(options.seed ?? 0) }).toString();
}

export type RenderSize = number | { width: number; height: number };

export interface RenderOptions {
  /** Pixels: a number for a square, or { width, height } (the drawing centred, padding transparent); default 280. */
  size?: RenderSize;
  seed?: number | string;
}

/** PNG bytes (RGBA, transparent background) of a style at the given size. */
export async function renderStyle(style: StyleRecord, options: RenderOptions = {}): Promise<Buffer> {
  const size = options.size ?? 280;
  const { width, height } = typeof size === "number" ? { width: size, height: size } : size;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new Error(`renderStyle: size must be positive whole pixels, got ${JSON.stringify(size)}`);
  const svg = await renderStyleSvg(style, options);
  // Rasterise at the target resolution (density scales the 280-unit viewBox) so the vector stays sharp.
  const density = (72 * Math.max(width, height)) / 280;
  return sharp(Buffer.from(svg), { density })
    .resize(width, height, { fit: "contain", background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .ensureAlpha()
    .png()
    .toBuffer();
}

/**
 * Render each style to outDir/style-000.png, style-001.png, … (style i seeded with `${seed}-${i}`), atomically.
 * Only PNGs go into the folder, so it can be read back by loadAvatars as a training set. Returns file and style.
 */
export async function renderStyles(
  styles: StyleRecord[],
  outDir: string,
  options: RenderOptions = {},
): Promise<{ file: string; style: StyleRecord }[]> {
  const seed = options.seed ?? 0;
  const out: { file: string; style: StyleRecord }[] = [];
  for (const [i, style] of styles.entries()) {
    const file = path.join(outDir, `style-${String(i).padStart(3, "0")}.png`);
    writeFileAtomic(file, await renderStyle(style, { ...options, seed: `${seed}-${i}` }));
    out.push({ file, style });
  }
  return out;
}
