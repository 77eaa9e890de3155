import type { BitWidth, SparsityReport } from '../pipeline/stats';

/** One model's row of the results table; null where a figure was not measured. */
export interface ModelRow {
  name: 'dense' | 'compressed';
  mAP: number | null;
  NDS: number | null;
  mIoU: number | null;
  /** Non-zero learnable scalars. */
  params: number;
  /** Those scalars at their bit-widths, in MB (10⁶ bytes); sparse index overhead not counted. */
  sizeMB: number;
  /** Size of the exported ONNX file, in MB. */
  onnxMB: number | null;
  /** Median onnxruntime single-frame forward time. */
  latencyMs: number | null;
  /** Which runtime produced the metrics. */
  evaluatedWith: string | null;
}

/** What `bevzip compress` writes to `summary.json` and the report is drawn from (with `events.jsonl`). */
export interface RunSummary {
  format: 'bevzip-summary';
  version: 1;
  pipeline: {
    file: string;
    name?: string;
    /** The pipeline file as written. */
    text: string;
    stages: { name: string; steps: number; plugins: string[] }[];
  };
  model: string;
  teacher?: string;
  data: string;
  seed: number;
  startedAt: string;
  /** Wall time of this invocation. */
  seconds: number;
  resumedFrom?: { stage: number; step: number };
  models: ModelRow[];
  sparsity: SparsityReport;
  bitWidths: BitWidth[];
  /** Files written into the output folder, relative to it. */
  artifacts: string[];
  warnings: string[];
}

export const SUMMARY_FILE = 'summary.json';
export const EVENTS_FILE = 'events.jsonl';
export const REPORT_FILE = 'report.html';
