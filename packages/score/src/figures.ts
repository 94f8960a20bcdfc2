/** The figures of the score summary: what each measures, and which way is better. */
export const FIGURES = {
  // the delivered shot: the face found again in the blended plate (what the user delivers)
  deliveredRetrieval: { group: 'delivered', better: 'higher', what: 'share of blended frames whose face, found again, is nearest the source (no face found: not retrieved)' },
  deliveredDistSource: { group: 'delivered', better: 'lower', what: 'mean descriptor distance of the blended face to the source identity' },
  deliveredDistTarget: { group: 'delivered', better: 'higher', what: 'mean descriptor distance of the blended face to the target (plate) identity' },
  deliveredDetectability: { group: 'delivered', better: 'higher', what: "share of blended frames where face-api's detector finds the face near the plate's face" },
  deliveredLandmarkError: { group: 'delivered', better: 'lower', what: 'mean 68-landmark distance blended face vs plate face, in inter-ocular distances' },
  deliveredExpressionL1: { group: 'delivered', better: 'lower', what: 'mean L1 distance of the 7 expression probabilities blended face vs plate (0-2)' },
  deliveredDetailMouth: { group: 'delivered', better: 'near 1', what: 'high-frequency energy in the mouth, blended frame / plate' },
  deliveredDetailEyes: { group: 'delivered', better: 'near 1', what: 'high-frequency energy around the eyes and lower forehead, blended frame / plate' },
  seam: { group: 'seams', better: 'lower', what: 'luminance gradient the blend adds at the mask border (8-bit levels/px)' },
  seamPlate: { group: 'seams', better: '-', what: "the plate's own gradient there" },
  seamRatio: { group: 'seams', better: 'near 1', what: "(seamPlate + seam) / seamPlate: the border's gradient against the plate's own" },
  // diagnostics of the decoder's output: the swap crops before the blend
  identityRetrieval: { group: 'identity', better: 'higher', what: 'share of swapped faces whose nearest trained identity is the source' },
  distSource: { group: 'identity', better: 'lower', what: 'mean descriptor distance of the swapped face to the source identity' },
  distTarget: { group: 'identity', better: 'higher', what: 'mean descriptor distance of the swapped face to the target (plate) identity' },
  landmarkError: { group: 'performance', better: 'lower', what: 'mean 68-landmark distance swap vs plate, in inter-ocular distances' },
  expressionL1: { group: 'performance', better: 'lower', what: 'mean L1 distance of the 7-class expression probabilities swap vs plate (0-2)' },
  changeRatio: { group: 'stability', better: 'near 1', what: 'in-mask frame-to-frame change of the swap / of the plate' },
  jitter: { group: 'stability', better: 'lower', what: 'landmark jitter of the swapped faces (inter-ocular distances per frame)' },
  jitterPlate: { group: 'stability', better: 'lower', what: 'landmark jitter of the plate faces, measured the same way' },
  jitterRatio: { group: 'stability', better: 'near 1', what: 'jitter / jitterPlate' },
  detailMouth: { group: 'detail', better: 'near 1', what: 'high-frequency energy in the mouth, swap / plate' },
  detailEyes: { group: 'detail', better: 'near 1', what: 'high-frequency energy around the eyes and lower forehead, swap / plate' },
  ssim: { group: 'reconstruction', better: 'higher', what: 'SSIM of the swapped face vs the plate inside the mask' },
  psnr: { group: 'reconstruction', better: 'higher', what: 'PSNR (dB) of the swapped face vs the plate inside the mask' },
  detectability: { group: 'detectability', better: 'higher', what: "share of swapped faces face-api's detector finds" },
  detectabilityPlate: { group: 'detectability', better: 'higher', what: 'the same on the plate crops' },
} as const;

export type FigureName = keyof typeof FIGURES;

/** Groups measured on the blended plate (what is delivered); the others are diagnostics of the swap crops. */
export const DELIVERED_GROUPS: readonly string[] = ['delivered', 'seams'];

/** The summary: every figure (null where not measured: no blend, no reconstruction, too few frames). */
export type Figures = Record<FigureName, number | null>;
