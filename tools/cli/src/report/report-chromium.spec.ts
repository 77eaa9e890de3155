import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { sampleEvents, sampleSummary } from './testing-sample';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'bevzip.js');
const BUILT = path.resolve(__dirname, '..', '..', 'dist', 'report', 'write-report.js');

function findChromium(): string | undefined {
  for (const bin of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && fs.existsSync(path.join(dir, bin))) return path.join(dir, bin);
  }
  return undefined;
}

const chromium = findChromium();
// vega-lite is ESM with top-level await, so the real renderer runs in the built CLI, not under jest.
const skip = !chromium ? 'Chromium is not installed (apt-get install -y chromium)' : !fs.existsSync(BUILT) ? 'the CLI is not built (npx nx run-many -t build)' : undefined;
if (skip) process.stdout.write(`report-chromium.spec: skipped: ${skip}\n`);
const maybe = skip ? describe.skip : describe;

maybe('report.html in headless Chromium', () => {
  let dir: string;
  let profile: string;
  const browse = (...args: string[]) =>
    execFileSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-report-html-'));
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-chromium-'));
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(sampleSummary()));
    fs.writeFileSync(path.join(dir, 'events.jsonl'), sampleEvents());
    execFileSync(process.execPath, [CLI, 'report', dir], { stdio: 'pipe', timeout: 60_000 });
  }, 90_000);
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it('draws every chart as inline SVG with its marks, without scripts or external resources', () => {
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http/);
    const dom = browse('--dump-dom', `file://${path.join(dir, 'report.html')}`);
    for (const id of ['losses', 'sparsity-modality', 'sparsity-layer', 'bit-widths', 'accuracy-size']) {
      const section = dom.slice(dom.indexOf(`<section id="${id}"`), dom.indexOf('</section>', dom.indexOf(`<section id="${id}"`)));
      expect(section).toContain('<svg');
      expect(section).toMatch(/class="mark-(line|rect|symbol)/);
    }
    // Two loss terms and the total: three line marks.
    const losses = dom.slice(dom.indexOf('<section id="losses"'), dom.indexOf('</section>', dom.indexOf('<section id="losses"')));
    const terms = [...losses.matchAll(/aria-label="[^"]*term: ([^";]+)"[^>]*aria-roledescription="line mark"/g)].map((m) => m[1]);
    expect(terms.sort()).toEqual(['q/kd', 'task', 'total']);
    for (const layer of sampleSummary().sparsity.layers) expect(dom).toContain(layer.name);
    expect(dom).toContain('<th scope="row">compressed</th>');
  }, 90_000);

  it('paints a page that is not blank', () => {
    const png = path.join(dir, 'shot.png');
    browse(`--screenshot=${png}`, '--window-size=1000,1600', `file://${path.join(dir, 'report.html')}`);
    const img = PNG.sync.read(fs.readFileSync(png));
    let dark = 0;
    let coloured = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
      if (r + g + b < 200) dark++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    }
    // Text draws dark pixels; chart marks (vega's category colours) draw saturated ones.
    expect(dark).toBeGreaterThan(2000);
    expect(coloured).toBeGreaterThan(2000);
  }, 90_000);
});
