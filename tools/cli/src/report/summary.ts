import type { BitWidth, SparsityReport } from '../pipeline/stats';

/** One model's row of the results table: the ONNX file as written; null where a figure was not measured. */
export interface ModelRow {
  name: 'dense' | 'compressed';
  mAP: number | null;
  NDS: number | null;
  mIoU: number | null;
  /** Scalars in the exported model (structured pruning removes some; unstructured only zeroes them). */
  params: number;
  /** Of those, the non-zero ones. */
  nonZero: number;
  /** Size of the exported ONNX file, in MB (10⁶ bytes). */
  onnxMB: number;
  /** Median onnxruntime single-frame forward time of that file. */
  latencyMs: number | null;
  /** Which runtime produced the metrics (always the file itself in onnxruntime). */
  evaluatedWith: 'onnxruntime' | null;
  /** What each plugin did to the exported file, one line each (`plugin: summary`). */
  notes: string[];
}

/** What `bevzip compress` writes to `summary.json` and the report is drawn from (with `events.jsonl`). */
export interface RunSummary {
  format: 'bevzip-summary';
  version: 2;
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
