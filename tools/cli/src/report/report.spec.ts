import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { escapeHtml } from './html';
import { lossSeries } from './loss-series';
import { sampleSummary, sampleEvents } from './testing-sample';
import { writeReport } from './write-report';

describe('loss series', () => {
  it('offsets steps by the stage budgets, keeps the last copy of a repeated step and adds the total', () => {
    const stages = [{ name: 'a', steps: 2 }, { name: 'b', steps: 3 }];
    const line = (stage: string, step: number, task: number) => JSON.stringify({ type: 'step', stage, step, losses: { task }, total: task * 2 });
    const log = [line('a', 0, 1), line('a', 1, 2), line('b', 0, 3), line('b', 0, 4), '{"type":"step","sta', line('b', 1, 5)].join('\n');
    expect(lossSeries(log, stages).filter((p) => p.term === 'task').map((p) => [p.step, p.value])).toEqual([[0, 1], [1, 2], [2, 4], [3, 5]]);
    expect(lossSeries(log, stages).filter((p) => p.term === 'total').map((p) => p.value)).toEqual([2, 4, 8, 10]);
  });

  it('strides long curves down to the point budget, keeping the last point', () => {
    const log = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ type: 'step', stage: 's', step: i, losses: { task: i }, total: i })).join('\n');
    const task = lossSeries(log, [{ name: 's', steps: 1000 }], 100).filter((p) => p.term === 'task');
    expect(task.length).toBe(101); // every 10th point, and the last
    expect(task.at(-1)!.step).toBe(999);
  });
});

describe('report page', () => {
  it('escapes text and writes one section per chart, with notes where there is nothing to draw', async () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-report-'));
    try {
      const summary = { ...sampleSummary(), bitWidths: [] };
      summary.pipeline.text = 'name: <b>bold</b>';
      fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary));
      fs.writeFileSync(path.join(dir, 'events.jsonl'), sampleEvents());
      const specs: Record<string, unknown>[] = [];
      const file = await writeReport(dir, { render: async (spec) => (specs.push(spec), `<svg data-n="${specs.length}"></svg>`) });
      const html = fs.readFileSync(file, 'utf8');
      expect(specs.map((s) => s.title)).toEqual(['Loss per term', 'Sparsity per modality', 'Sparsity per layer', 'Accuracy vs size']);
      expect(html).toContain('no quantizer reported bit-widths');
      expect(html).toContain('name: &lt;b&gt;bold&lt;/b&gt;');
      expect(html).toMatch(/<th scope="row">compressed<\/th><td>0\.2500<\/td>/);
      const accuracy = specs[3] as { data: { values: { model: string; metric: string; value: number; onnxMB: number }[] } };
      expect(accuracy.data.values).toContainEqual({ model: 'compressed', metric: 'NDS', value: 0.3, onnxMB: 0.6 });
      await expect(writeReport(path.join(dir, 'none'))).rejects.toMatchObject({ code: 'E_CONFIG' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
