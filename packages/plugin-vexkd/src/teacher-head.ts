import { nodesNeeded, type Graph } from '@bevzip/ir';

/**
 * The part of a teacher graph downstream of one value: its nodes that compute `outputs` once
 * `from` is given, as a graph whose inputs are `from` plus whatever else those nodes read from
 * upstream (fed from a plain teacher run). Mask training runs it on the masked feature, so the
 * masks learn what the teacher's own heads need; the encoders run once, without gradients.
 */
export function teacherHead(teacher: Graph, from: string, outputs: readonly string[]): { graph: Graph; extra: string[] } {
  const upstream = new Set(nodesNeeded(teacher, [from]));
  const nodes = nodesNeeded(teacher, outputs).filter((n) => !upstream.has(n));
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const params = new Set(teacher.params.map((p) => p.name));
  const read = [...new Set(nodes.flatMap((n) => n.inputs))].filter((v) => v && !produced.has(v) && !params.has(v));
  const info = (name: string) => teacher.values[name] ?? teacher.inputs.find((i) => i.name === name)!;
  const extra = read.filter((v) => v !== from);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const graph: Graph = {
    ...teacher,
    name: `${teacher.name}-head@${from}`,
    inputs: [from, ...extra].map((name) => ({ name, shape: info(name).shape, dtype: info(name).dtype })),
    nodes,
    params: teacher.params.filter((p) => used.has(p.name)),
    outputs: [...outputs],
  };
  return { graph, extra };
}
