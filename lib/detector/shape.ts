/**
 * Image shapes and flat NHWC batches (N images of H×W×C values back to back, what `tensor.dataSync()` gives): the
 * shape check, the image count of a batch and the gathering of images by index that lib/detector and lib/report
 * share. A leaf module (it imports nothing), so any module may use it without an import cycle.
 *
 *   const shape = toImageShape([32, 48, 3]);                 // { height: 32, width: 48, channels: 3 }, checked
 *   const n = imageCount(images, shape, "reconstruct");      // N, or an error naming "reconstruct"
 *   const picked = gatherImages(images, 32 * 48 * 3, [3, 7]); // images 3 and 7, back to back
 */

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** A shape as { height, width, channels } or as the tensor-style tuple [height, width, channels]. */
export type ShapeLike = ImageShape | readonly [number, number, number];

/** The shape as an object, checked: every dimension a positive integer (channels only when `needChannels`). */
export function toImageShape(like: ShapeLike, needChannels = true): ImageShape {
  const shape = Array.isArray(like) ? { height: like[0], width: like[1], channels: like[2] } : (like as ImageShape);
  const dims: (keyof ImageShape)[] = needChannels ? ["height", "width", "channels"] : ["height", "width"];
  for (const d of dims) {
    if (!Number.isInteger(shape[d]) || shape[d] < 1)
      throw new Error(`image shape ${d} must be a positive integer, got ${shape[d]}`);
  }
  return shape;
}

/** "32×48×3". */
export function describeShape(like: ShapeLike): string {
  const s = Array.isArray(like) ? { height: like[0], width: like[1], channels: like[2] } : (like as ImageShape);
  return `${s.height}×${s.width}×${s.channels}`;
}

/** Values in one image of the shape: height · width · channels. */
export function imageSize(like: ShapeLike): number {
  const s = toImageShape(like);
  return s.height * s.width * s.channels;
}

/**
 * How many images of the shape a flat batch holds; an error starting with `where` when its length is not a whole
 * number of them: `imageCount(images, [32, 48, 3], "reconstruct")`.
 */
export function imageCount(values: ArrayLike<number>, like: ShapeLike, where: string): number {
  const per = imageSize(like);
  const count = values.length / per;
  if (!Number.isInteger(count)) {
    const what = `${describeShape(like)} images (${per} values each)`;
    throw new Error(`${where}: ${values.length} values is not a whole number of ${what}`);
  }
  return count;
}

/**
 * The images at `indices` of a flat batch of `per`-value images, back to back in that order (repeats allowed):
 * `gatherImages(data, 32 * 48 * 3, [2, 0])`. An index outside the batch is an error starting with `where`.
 */
export function gatherImages(data: Float32Array, per: number, indices: readonly number[], where?: string): Float32Array;
export function gatherImages(data: Uint8Array, per: number, indices: readonly number[], where?: string): Uint8Array;
export function gatherImages(
  data: Float32Array | Uint8Array,
  per: number,
  indices: readonly number[],
  where = "gatherImages",
): Float32Array | Uint8Array {
  const out =
    data instanceof Uint8Array ? new Uint8Array(indices.length * per) : new Float32Array(indices.length * per);
  indices.forEach((j, k) => {
    if (!(Number.isInteger(j) && j >= 0 && (j + 1) * per <= data.length))
      throw new Error(`${where}: index ${j} is outside ${data.length / per} images`);
    out.set(data.subarray(j * per, (j + 1) * per), k * per);
  });
  return out;
}
