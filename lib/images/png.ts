import { PNG } from 'pngjs';

import { UserError } from '../errors';

/** A grayscale image: one byte per pixel (0 black, 255 white), row-major. */
export interface GrayImage {
  width: number;
  height: number;
  /** `width * height` bytes. */
  pixels: Uint8Array;
}

/** Encodes a grayscale image as an 8-bit grayscale PNG. */
export function encodePng(image: GrayImage): Buffer {
  if (image.pixels.length !== image.width * image.height) {
    throw new Error(
      `encodePng: ${image.pixels.length} bytes for a ${image.width}x${image.height} image`,
    );
  }
  const png = new PNG({
    width: image.width,
    height: image.height,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(image.pixels.buffer, image.pixels.byteOffset, image.pixels.length);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/**
 * Decodes a PNG into grayscale bytes, taking the red channel of colour images. `what` names the
 * file or key in the error raised for a body that is not a PNG.
 */
export function decodePng(body: Buffer, what = 'image'): GrayImage {
  let png: PNG;
  try {
    png = PNG.sync.read(body);
  } catch (error) {
    throw new UserError(`${what}: not a valid PNG (${(error as Error).message})`);
  }
  // pngjs always decodes to RGBA.
  const pixels = new Uint8Array(png.width * png.height);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = png.data[i * 4];
  return { width: png.width, height: png.height, pixels };
}
