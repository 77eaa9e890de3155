import type { VegaLiteSpec } from './charts';

/** Turns a vega-lite spec into an SVG document string. Swappable so tests can stub the rendering. */
export type SvgRenderer = (spec: VegaLiteSpec) => Promise<string>;

/**
 * Renders with vega-lite → vega in Node, headless (no canvas, no network: fonts are the viewer's).
 * vega and vega-lite are ES modules with top-level await, so they are loaded with a real `import()`.
 */
export const vegaLiteSvg: SvgRenderer = async (spec) => {
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};
