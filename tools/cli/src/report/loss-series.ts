/** One point of a loss curve: a term's unweighted value at a step of the whole run. */
export interface LossPoint {
  stage: string;
  /** Step counted over all stages (stage offsets from the pipeline's step budgets). */
  step: number;
  term: string;
  value: number;
}

interface StepLine {
  type: 'step';
  stage: string;
  step: number;
  losses: Record<string, number>;
  total: number;
}

/**
 * Loss curves from an `events.jsonl` log: every term of every step, plus the weighted `total`. A
 * step logged twice (a resumed run repeats the steps after its checkpoint) keeps its last value.
 * Long curves are strided down to `maxPoints` points per term (plus the last), so the page stays light.
 */
export function lossSeries(eventLines: string, stages: readonly { name: string; steps: number }[], maxPoints = 400): LossPoint[] {
  const offset = new Map<string, number>();
  let at = 0;
  for (const s of stages) {
    offset.set(s.name, at);
    at += s.steps;
  }
  const steps = new Map<string, StepLine>();
  for (const line of eventLines.split('\n')) {
    if (!line.trim()) continue;
    let e: { type?: string };
    try {
      e = JSON.parse(line) as { type?: string };
    } catch {
      continue; // a line cut short by a killed run
    }
    if (e.type === 'step') {
      const s = e as StepLine;
      steps.set(`${s.stage}\u0000${s.step}`, s);
    }
  }
  const byTerm = new Map<string, LossPoint[]>();
  for (const s of steps.values()) {
    const step = (offset.get(s.stage) ?? 0) + s.step;
    for (const [term, value] of [...Object.entries(s.losses), ['total', s.total] as const]) {
      if (!Number.isFinite(value)) continue;
      const list = byTerm.get(term) ?? [];
      list.push({ stage: s.stage, step, term, value });
      byTerm.set(term, list);
    }
  }
  return [...byTerm.values()].flatMap((list) => {
    list.sort((a, b) => a.step - b.step);
    const stride = Math.ceil(list.length / maxPoints);
    return list.filter((_, i) => i % stride === 0 || i === list.length - 1);
  });
}
