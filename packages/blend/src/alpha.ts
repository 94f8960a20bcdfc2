import type { Image } from '@facecomb/image';

/** Feathered alpha composite: plate + mask · (face − plate). Where the mask is 0 the plate is kept exactly. */
export function alphaBlend(plate: Image, face: Image, mask: Image, inPlace = false): Image {
  const { width: w, height: h, channels: c } = plate;
  if (face.width !== w || face.height !== h || face.channels !== c) throw new Error('alpha: face and plate differ in size or channels');
  if (mask.width !== w || mask.height !== h || mask.channels !== 1) throw new Error('alpha: mask must be 1-channel, plate-sized');
  const out = inPlace ? plate.data : new Float32Array(plate.data);
  const fd = face.data, md = mask.data;
  for (let p = 0, i = 0; p < w * h; p++) {
    const m = md[p];
    if (m === 0) {
      i += c;
      continue;
    }
    for (let ch = 0; ch < c; ch++, i++) out[i] += m * (fd[i] - out[i]);
  }
  return { width: w, height: h, channels: c, data: out };
}
