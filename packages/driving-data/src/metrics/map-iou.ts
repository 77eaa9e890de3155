/** Probability thresholds of the BEV map-segmentation IoU: 0.35, 0.40, …, 0.65. */
export const MAP_IOU_THRESHOLDS: readonly number[] = Object.freeze([0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65]);

/** Added to the IoU denominator so that a class absent from both prediction and label scores 0. */
export const MAP_IOU_EPS = 1e-7;

/** IoU of one map class. */
export interface MapClassIou {
  /** IoU at each threshold, aligned with the accumulator's thresholds. */
  iouPerThreshold: number[];
  /** Largest IoU over the thresholds ("iou@max"). */
  maxIou: number;
  /** Threshold giving `maxIou` (the first one on ties). */
  bestThreshold: number;
}

/** Result of a map-segmentation evaluation. */
export interface MapIouResult {
  perClass: Record<string, MapClassIou>;
  /** Mean over classes of `maxIou`. */
  meanIou: number;
}

/**
 * Accumulates BEV map-segmentation confusion counts over a whole evaluation set and reports
 * IoU = TP / (TP + FP + FN + 1e-7) per class and threshold, IoU@max per class, and their mean
 * (BEVFusion's `evaluate_map`). A cell is predicted positive when its probability is ≥ the
 * threshold (thresholds compared in float32, like the reference's float32 tensor); a label is
 * positive when non-zero. Counts are exact integers.
 */
export class MapIouAccumulator {
  private readonly thresholds: Float32Array;
  private readonly thresholdValues: readonly number[];
  /** `hist[c][k]`: cells of class c whose probability passes exactly the first k thresholds. */
  private readonly posHist: Float64Array[];
  private readonly negHist: Float64Array[];

  constructor(
    readonly classes: readonly string[],
    thresholds: readonly number[] = MAP_IOU_THRESHOLDS,
  ) {
    if (classes.length === 0) throw new Error('MapIouAccumulator: at least one class is required');
    if (thresholds.length === 0 || thresholds.some((t, i) => i > 0 && !(t > thresholds[i - 1]))) {
      throw new Error(
        `MapIouAccumulator: thresholds must be non-empty and strictly increasing, got [${thresholds.join(', ')}]`,
      );
    }
    this.thresholds = Float32Array.from(thresholds);
    this.thresholdValues = [...thresholds];
    this.posHist = classes.map(() => new Float64Array(thresholds.length + 1));
    this.negHist = classes.map(() => new Float64Array(thresholds.length + 1));
  }

  /**
   * Adds one batch: `probs[c]` holds the probabilities (after the sigmoid) of class c for any
   * number of cells (e.g. several samples back to back) and `labels[c]` the matching 0/1 labels.
   * @throws Error naming the class when the class count or array lengths disagree.
   */
  update(probs: readonly Float32Array[], labels: readonly Uint8Array[]): void {
    if (probs.length !== this.classes.length || labels.length !== this.classes.length) {
      throw new Error(
        `MapIouAccumulator.update: expected ${this.classes.length} classes, got ${probs.length} probability and ${labels.length} label arrays`,
      );
    }
    const th = this.thresholds;
    const nTh = th.length;
    for (let c = 0; c < this.classes.length; c++) {
      const p = probs[c];
      const l = labels[c];
      if (p.length !== l.length) {
        throw new Error(
          `MapIouAccumulator.update: class ${this.classes[c]} has ${p.length} probabilities but ${l.length} labels`,
        );
      }
      const pos = this.posHist[c];
      const neg = this.negHist[c];
      for (let i = 0; i < p.length; i++) {
        const v = p[i];
        let k = 0;
        while (k < nTh && v >= th[k]) k++;
        if (l[i] !== 0) pos[k]++;
        else neg[k]++;
      }
    }
  }

  /** IoUs from everything added so far. */
  result(): MapIouResult {
    return mapIouFromHistograms(this.classes, this.thresholdValues, this.posHist, this.negHist);
  }

  /**
   * Copies of the counts: `pos[c][k]` / `neg[c][k]` are the label-positive / label-negative cells
   * of class c whose probability passes exactly the first k thresholds. Counts add over cells, so
   * the histograms of disjoint sets of cells sum to the histogram of their union.
   */
  histograms(): { pos: Float64Array[]; neg: Float64Array[] } {
    return { pos: this.posHist.map((h) => h.slice()), neg: this.negHist.map((h) => h.slice()) };
  }

  /** Forgets all counts. */
  reset(): void {
    for (const h of [...this.posHist, ...this.negHist]) h.fill(0);
  }
}

/**
 * Map IoUs from confusion histograms as {@link MapIouAccumulator.histograms} returns them (one
 * `thresholds.length + 1` bin array per class).
 */
export function mapIouFromHistograms(
  classes: readonly string[],
  thresholds: readonly number[],
  posHist: readonly ArrayLike<number>[],
  negHist: readonly ArrayLike<number>[],
): MapIouResult {
  const nTh = thresholds.length;
  const sum = (h: ArrayLike<number>) => {
    let t = 0;
    for (let i = 0; i < h.length; i++) t += h[i];
    return t;
  };
  const perClass: Record<string, MapClassIou> = {};
  let maxSum = 0;
  classes.forEach((name, c) => {
    const pos = posHist[c];
    const neg = negHist[c];
    const totalPos = sum(pos);
    const iouPerThreshold: number[] = [];
    // A cell with k passed thresholds is predicted positive at every threshold index < k.
    let tp = totalPos - pos[0];
    let fp = sum(neg) - neg[0];
    for (let t = 0; t < nTh; t++) {
      if (t > 0) {
        tp -= pos[t];
        fp -= neg[t];
      }
      const fn = totalPos - tp;
      iouPerThreshold.push(tp / (tp + fp + fn + MAP_IOU_EPS));
    }
    let best = 0;
    for (let t = 1; t < nTh; t++) if (iouPerThreshold[t] > iouPerThreshold[best]) best = t;
    perClass[name] = { iouPerThreshold, maxIou: iouPerThreshold[best], bestThreshold: thresholds[best] };
    maxSum += iouPerThreshold[best];
  });
  return { perClass, meanIou: maxSum / classes.length };
}
