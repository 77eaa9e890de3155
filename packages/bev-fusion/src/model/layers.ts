import type { GraphBuilder, Initializer } from '@bevzip/ir';

/** Batch-norm settings shared by every block of a model. */
export interface BnOptions {
  momentum: number;
  eps: number;
}

export interface ConvOptions {
  /** Square kernel size; default 3. */
  kernel?: number;
  /** Stride; default 1. */
  stride?: number;
}

/**
 * PyTorch-style explicit padding [top, bottom, left, right]: k//2 before, whatever reaches
 * ceil(size/stride) after. Unlike SAME_UPPER this puts the extra row first, so weights trained with
 * `nn.Conv2d(padding=k//2)` give the same output here.
 */
export function torchPads(h: number, w: number, kernel: number, stride: number): number[] {
  const axis = (size: number) => {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + kernel - size, 0);
    const before = Math.min(Math.floor(kernel / 2), total);
    return [before, total - before];
  };
  const [top, bottom] = axis(h);
  const [left, right] = axis(w);
  return [top, bottom, left, right];
}

/** Runs `fn` in a child scope, or in the current one when `scope` is ''. */
function inScope<T>(b: GraphBuilder, scope: string, fn: () => T): T {
  return scope ? b.scoped(scope, {}, fn) : fn();
}

function channels(b: GraphBuilder, x: string): number {
  const shape = b.info(x).shape;
  return shape[shape.length - 1];
}

/**
 * Batch norm over the last axis in the current scope, with params `bn.gamma`, `bn.beta` (role
 * 'norm') and running statistics `bn.running_mean`, `bn.running_var` (role 'state').
 */
export function batchNorm(b: GraphBuilder, x: string, bn: BnOptions): string {
  const c = channels(b, x);
  const gamma = b.param('bn.gamma', [c], { role: 'norm', init: { kind: 'ones' } });
  const beta = b.param('bn.beta', [c], { role: 'norm', init: { kind: 'zeros' } });
  const mean = b.param('bn.running_mean', [c], { role: 'state', init: { kind: 'zeros' } });
  const variance = b.param('bn.running_var', [c], { role: 'state', init: { kind: 'ones' } });
  return b.op(
    'batchnorm',
    [x, gamma, beta, mean, variance],
    { momentum: bn.momentum, eps: bn.eps },
    { name: 'bn' },
  );
}

/**
 * The model's basic block in its own scope ('' = the current one): conv2d without bias (`conv.weight` [k, k, cin, cout],
 * He-normal) → batch norm → ReLU, PyTorch-style padding.
 *
 * @example
 * const y = convBnRelu(b, 'c1', images, 16, bn, { stride: 2 }); // [-1, 32, 88, 3] → [-1, 16, 44, 16]
 */
export function convBnRelu(
  b: GraphBuilder,
  scope: string,
  x: string,
  cout: number,
  bn: BnOptions,
  options: ConvOptions = {},
): string {
  return inScope(b, scope, () => {
    const k = options.kernel ?? 3;
    const stride = options.stride ?? 1;
    const [, h, w] = b.info(x).shape;
    const weight = b.param('conv.weight', [k, k, channels(b, x), cout]);
    const y = b.op(
      'conv2d',
      [x, weight],
      { strides: stride, pad: torchPads(h, w, k, stride) },
      { name: 'conv' },
    );
    return b.op('relu', [batchNorm(b, y, bn)], {}, { name: 'relu' });
  });
}

/**
 * A plain conv2d with bias in its own scope ('' = the current one; `conv.weight`, `conv.bias`): output layers such as the
 * depth net and the head predictors.
 */
export function convBias(
  b: GraphBuilder,
  scope: string,
  x: string,
  cout: number,
  options: ConvOptions & { biasInit?: Initializer; weightInit?: Initializer } = {},
): string {
  return inScope(b, scope, () => {
    const k = options.kernel ?? 3;
    const stride = options.stride ?? 1;
    const [, h, w] = b.info(x).shape;
    const weight = b.param('conv.weight', [k, k, channels(b, x), cout], {
      init: options.weightInit ?? { kind: 'heNormal' },
    });
    const bias = b.param('conv.bias', [cout], { role: 'bias', init: options.biasInit ?? { kind: 'zeros' } });
    return b.op(
      'conv2d',
      [x, weight, bias],
      { strides: stride, pad: torchPads(h, w, k, stride) },
      { name: 'conv' },
    );
  });
}
