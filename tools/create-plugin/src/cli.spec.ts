import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, USAGE } from './cli';

describe('create-plugin command line', () => {
  let cwd: string;
  let out: string;
  const io = () => ({ cwd, out: (s: string) => void (out += s) });
  beforeEach(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'create-plugin-cli-'));
    out = '';
  });
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('creates ./<name> and prints the next steps', () => {
    expect(runCli(['my-method', '--description', 'Prunes by luck'], io())).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(cwd, 'my-method', 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'my-method', description: 'Prunes by luck' });
    expect(fs.existsSync(path.join(cwd, 'my-method', 'src', 'index.spec.ts'))).toBe(true);
    expect(out).toContain('Created my-method in my-method (11 files)');
    expect(out).toContain('  cd my-method\n  npm install\n');
  });

  it('writes into --dir', () => {
    runCli(['@acme/kd', '--dir', 'nested/kd'], io());
    expect(JSON.parse(fs.readFileSync(path.join(cwd, 'nested/kd/package.json'), 'utf8')).name).toBe('@acme/kd');
  });

  it('prints the usage for --help', () => {
    expect(runCli(['--help'], io())).toBe(0);
    expect(out).toBe(USAGE);
  });

  it('prints its own version', () => {
    runCli(['-v'], io());
    expect(out).toBe(`${require('../package.json').version}\n`);
  });

  it.each([
    [[], /expected exactly one plugin name, got none/],
    [['a', 'b'], /expected exactly one plugin name, got a b/],
    [['a', '--colour'], /Unknown option '--colour'/],
    [['Not-Valid'], /plugin name 'Not-Valid' is not a valid npm package name/],
  ])('fails on %j with the reason', (argv, message) => {
    expect(() => runCli(argv as string[], io())).toThrow(message);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
