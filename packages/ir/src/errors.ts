/**
 * Stable error codes. Every error bevzip throws on purpose is a {@link BevzipError} with one of
 * these codes, so callers (and tests) can match on the code rather than on the wording.
 */
export const ERROR_CODES = {
  GRAPH_INVALID: 'E_GRAPH_INVALID',
  GRAPH_FILE: 'E_GRAPH_FILE',
  WEIGHTS_FILE: 'E_WEIGHTS_FILE',
  UNKNOWN_OP: 'E_UNKNOWN_OP',
  BAD_ATTRS: 'E_BAD_ATTRS',
  SHAPE_MISMATCH: 'E_SHAPE_MISMATCH',
  MISSING_FEED: 'E_MISSING_FEED',
  BAD_FEED: 'E_BAD_FEED',
  UNKNOWN_VALUE: 'E_UNKNOWN_VALUE',
  ONNX_EXPORT: 'E_ONNX_EXPORT',
  BACKEND: 'E_BACKEND',
  PLUGIN_API_VERSION: 'E_PLUGIN_API_VERSION',
  PLUGIN_OPTIONS: 'E_PLUGIN_OPTIONS',
  PLUGIN_HOOK: 'E_PLUGIN_HOOK',
  PLUGIN_DUPLICATE: 'E_PLUGIN_DUPLICATE',
  PLUGIN_REQUIREMENT: 'E_PLUGIN_REQUIREMENT',
  /** A package named as a plugin that is not one: no `bevzip` field in its package.json, or no register(). */
  PLUGIN_PACKAGE: 'E_PLUGIN_PACKAGE',
  FROZEN: 'E_FROZEN',
  CHECKPOINT: 'E_CHECKPOINT',
  NON_FINITE_LOSS: 'E_NON_FINITE_LOSS',
  CONFIG: 'E_CONFIG',
  /** Input data (a nuScenes-format dataset, say) that is not in the format it claims. */
  DATA_FORMAT: 'E_DATA_FORMAT',
  /** An output folder or file that cannot, or must not, be written. */
  OUTPUT: 'E_OUTPUT',
  /** The run was asked to stop (SIGINT/SIGTERM) and stopped at a step boundary. */
  INTERRUPTED: 'E_INTERRUPTED',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** One problem of several found at once, at its path in the caller's configuration. */
export interface ErrorIssue {
  readonly code: ErrorCode;
  /** Where the problem is, e.g. `['stages', 0, 'plugins', 1, 'options', 'quantize', 'wBits']`; empty when nowhere in particular. */
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export class BevzipError extends Error {
  /** The individual problems, when the error reports several found at once (plugin options, say). */
  readonly issues?: readonly ErrorIssue[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly ErrorIssue[] },
  ) {
    super(message, options);
    this.name = 'BevzipError';
    if (options?.issues) this.issues = options.issues;
  }
}

/** Where in a graph a problem is: used to prefix messages so the user can find the node. */
export function nodeLabel(node: { name: string; op: string; scope?: string }): string {
  return `node '${node.name}' (op ${node.op}${node.scope ? `, scope ${node.scope}` : ''})`;
}
