/**
 * Shapes, ranges and names that several stages must agree on. Every stage imports them from
 * here, so a generator, its training data and the gallery never disagree on a range.
 */

/** Side of a Fashion-MNIST image, in pixels. */
export const IMAGE_SIZE = 28;

/** Shape of one image as the models see it: [height, width, channels]. */
export const IMAGE_SHAPE: [number, number, number] = [IMAGE_SIZE, IMAGE_SIZE, 1];

/** Pixels per image. */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** Models take and produce pixels in [-1, 1], the range of `tanh`; stored bytes are 0-255. */
export const PIXEL_MIN = -1;
export const PIXEL_MAX = 1;

/** Default length of the generator's latent vector. */
export const DEFAULT_LATENT_SIZE = 100;

/** Fashion-MNIST class names, indexed by label. */
export const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Command-line and URL-safe category names, indexed by label. */
export const CATEGORY_SLUGS = [
  'tshirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle-boot',
] as const;

export const NUM_CLASSES = CLASS_NAMES.length;

/** Converts a stored byte (0-255) to the model range [-1, 1]. */
export function byteToPixel(value: number): number {
  return (value / 255) * (PIXEL_MAX - PIXEL_MIN) + PIXEL_MIN;
}

/** Converts a model pixel in [-1, 1] to a byte, clamping values outside the range. */
export function pixelToByte(value: number): number {
  const unit = (value - PIXEL_MIN) / (PIXEL_MAX - PIXEL_MIN);
  return Math.round(Math.min(1, Math.max(0, unit)) * 255);
}

/** Returns the label of a category given by slug, class name or number; -1 when unknown. */
export function categoryLabel(name: string): number {
  const wanted = name.trim().toLowerCase();
  const bySlug = CATEGORY_SLUGS.findIndex((slug) => slug === wanted);
  if (bySlug >= 0) return bySlug;
  const byName = CLASS_NAMES.findIndex((className) => className.toLowerCase() === wanted);
  if (byName >= 0) return byName;
  if (/^\d$/.test(wanted)) return Number(wanted);
  return -1;
}
