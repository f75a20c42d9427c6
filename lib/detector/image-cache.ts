/**
 * Decode each well image once: a binary cache on disk of the resized pixels of a set of images.
 *
 * The key is a SHA-1 of the cache format version, the target size (height, width, channels, fit) and the sorted
 * list of (absolute path, content hash) of the distinct files — content hashes rather than mtimes, since listWells
 * computes them anyway and a `touch` or a fresh copy of the data should not force a decode. Because the list is
 * sorted, any order or subset-shuffle of the same images hits the same entry; rows are stored in sorted-path order
 * and put back into the caller's order on load.
 *
 * On disk, in the cache folder (default `<projectRoot>/.cache/images`, or env IMAGE_CACHE_DIR, or options.cacheDir):
 *   <key>.u8    the pixels as bytes 0–255 after resize (N×H×W×C): a quarter of the size of float32, and exactly
 *               what sharp produces, so converting to [0, 1] on load gives the same floats as a fresh decode
 *   <key>.json  a small header: format, version, key, size, count, byte length and the SHA-1 of the bytes
 * Both are written atomically. A truncated or corrupted entry (length, header or checksum mismatch) is reported
 * with a warning and rebuilt; the cache never returns bytes it cannot vouch for.
 *
 *   import { loadCached } from "../dist/lib/detector";
 *   const batch = await loadCached(split.train, { height: 32, width: 48, channels: 3 });  // decodes only on a miss
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../common/atomic";
import { projectRoot } from "../common/paths";
import { gatherImages } from "./shape";
import {
  decodePixelsBatch,
  tensorData,
  type DecodeOptions,
  type ImageSize,
  type TensorData,
  type WellItem,
} from "./wells";

/** Bump when the stored bytes would change for the same key (decoder settings, layout of the file). */
const CACHE_FORMAT_VERSION = 1;
const FORMAT = "wells-image-cache";

export interface CacheOptions extends DecodeOptions {
  /** Cache folder (default: env IMAGE_CACHE_DIR, else <projectRoot>/.cache/images). */
  cacheDir?: string;
  /** Where warnings about a damaged cache entry go (default console.warn). */
  warn?: (message: string) => void;
}

export interface CachedTensorData extends TensorData {
  /** True when the pixels came from disk without decoding. */
  fromCache: boolean;
  /** The cache's data file. */
  cacheFile: string;
}

interface Header {
  format: string;
  version: number;
  key: string;
  height: number;
  width: number;
  channels: number;
  fit: string;
  count: number;
  byteLength: number;
  sha1: string;
}

const sha1 = (data: string | Uint8Array) => crypto.createHash("sha1").update(data).digest("hex");

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.IMAGE_CACHE_DIR ? path.resolve(env.IMAGE_CACHE_DIR) : path.join(projectRoot, ".cache", "images");
}

/** The distinct items sorted by path: the row order of a cache file. Two hashes for one path is an error. */
function distinctByFile(items: WellItem[]): WellItem[] {
  const byFile = new Map<string, WellItem>();
  for (const it of items) {
    const seen = byFile.get(it.file);
    if (seen && seen.hash !== it.hash) throw new Error(`image cache: ${it.file} appears with two different hashes`);
    byFile.set(it.file, it);
  }
  return [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** The cache key of a set of items at a size (independent of their order and of repeats). */
export function cacheKey(items: WellItem[], size: ImageSize): string {
  const { height, width, channels, fit = "fill" } = size;
  const files = distinctByFile(items).map((it) => [it.file, it.hash]);
  return sha1(JSON.stringify({ format: FORMAT, version: CACHE_FORMAT_VERSION, height, width, channels, fit, files }));
}

/** Read a cache entry: its bytes, nothing (no entry), or the reason it cannot be trusted. */
function readEntry(base: string, key: string, byteLength: number): { pixels?: Uint8Array; problem?: string } {
  const dataFile = `${base}.u8`;
  const headerFile = `${base}.json`;
  const hasData = fs.existsSync(dataFile);
  const hasHeader = fs.existsSync(headerFile);
  if (!hasData && !hasHeader) return {};
  if (!hasHeader) return { problem: `header ${headerFile} is missing` };
  if (!hasData) return { problem: `data file ${dataFile} is missing` };
  let header: Header;
  try {
    header = JSON.parse(fs.readFileSync(headerFile, "utf8"));
  } catch {
    return { problem: `header ${headerFile} is not valid JSON` };
  }
  if (header.format !== FORMAT || header.version !== CACHE_FORMAT_VERSION || header.key !== key)
    return {
      problem: `header ${headerFile} does not match (format ${header.format} v${header.version}, key ${header.key})`,
    };
  if (header.byteLength !== byteLength)
    return { problem: `header ${headerFile} says ${header.byteLength} bytes, expected ${byteLength}` };
  const data = fs.readFileSync(dataFile);
  if (data.length !== byteLength)
    return { problem: `${dataFile} has ${data.length} bytes, expected ${byteLength} (truncated?)` };
  if (sha1(data) !== header.sha1) return { problem: `${dataFile} does not match its checksum` };
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * The same result as loadBatchTensorData, decoding only when the cache has no valid entry for these images at
 * this size. Items may come in any order and may repeat; the result follows their order.
 */
export async function loadCached(
  items: WellItem[],
  size: ImageSize,
  options: CacheOptions = {},
): Promise<CachedTensorData> {
  const { cacheDir = defaultCacheDir(), warn = console.warn, ...decodeOptions } = options;
  const rows = distinctByFile(items);
  const per = size.height * size.width * size.channels;
  const key = cacheKey(rows, size);
  const base = path.join(cacheDir, key);
  const cacheFile = `${base}.u8`;

  const entry = readEntry(base, key, rows.length * per);
  let stored = entry.pixels;
  if (entry.problem) warn(`image cache: ${entry.problem}; decoding the ${rows.length} images again`);
  const fromCache = stored !== undefined;
  if (stored === undefined) {
    stored = await decodePixelsBatch(
      rows.map((r) => r.file),
      size,
      decodeOptions,
    );
    const header: Header = {
      format: FORMAT,
      version: CACHE_FORMAT_VERSION,
      key,
      height: size.height,
      width: size.width,
      channels: size.channels,
      fit: size.fit ?? "fill",
      count: rows.length,
      byteLength: stored.length,
      sha1: sha1(stored),
    };
    // Data first, header second: a crash in between leaves a data file without a header, which reads as damaged.
    writeFileAtomic(cacheFile, stored);
    writeFileAtomic(`${base}.json`, `${JSON.stringify(header, null, 2)}\n`);
  } else {
    decodeOptions.onProgress?.(rows.length, rows.length);
  }

  // Put the rows back into the caller's order (and repeats back in).
  const rowOf = new Map(rows.map((r, i) => [r.file, i]));
  const order = items.map((it) => rowOf.get(it.file)!);
  const pixels = gatherImages(stored, per, order, "image cache");
  return { ...tensorData(items, size, pixels), fromCache, cacheFile };
}
