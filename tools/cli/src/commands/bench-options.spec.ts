import { CommanderError, type Command } from 'commander';
import { createProgram } from '../program';

/** The program with every command throwing instead of exiting and its output captured. */
function program(): { p: Command; out: () => string } {
  let out = '';
  const p = createProgram();
  const quiet = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
    c.commands.forEach(quiet);
  };
  quiet(p);
  return { p, out: () => out.replace(/\s+/g, ' ') };
}

describe('method bench options', () => {
  it.each(['qdbev', 'altermoma', 'x3kd', 'unidistill', 'vexkd'])('bench %s shares the common options, with --val-frames for a reduced run', async (name) => {
    const { p, out } = program();
    await expect(p.parseAsync(['node', 'bevzip', 'bench', name, '--help'])).rejects.toThrow(CommanderError);
    for (const flag of ['--json', '--out <file>', '--batch-size <n>', '--lr <x>', '--train-scenes <n>'])
      expect(out()).toContain(flag);
    expect(out()).toMatch(/--val-frames <n> only the first N frames of the standard validation split \(default: all 360\)/);
    expect(out()).toMatch(/95% intervals and paired differences/);
    expect(out()).not.toContain('--val-scenes');
  });

  it('rejects unknown list entries and malformed numbers before any work, naming the option', async () => {
    const bad = [
      ['x3kd', '--variants', 'no-kd,x-zz', /--variants.*unknown value\(s\) x-zz; expected some of no-kd, x-is/],
      ['altermoma', '--methods', 'magnitude,lottery', /--methods.*unknown value\(s\) lottery/],
      ['unidistill', '--settings', 'lidar->camera,radar->camera', /--settings.*unknown value\(s\) radar->camera/],
      ['vexkd', '--students', 'camera,radar', /--students.*unknown value\(s\) radar/],
      ['altermoma', '--imp-rewind', 'late', /--imp-rewind.*expected one of none, start, got 'late'/],
      ['altermoma', '--fine-tune-kd', '0', /--fine-tune-kd.*expected a positive number/],
      ['altermoma', '--kd-methods', 'imp,obd', /--kd-methods.*unknown value\(s\) obd/],
      ['qdbev', '--val-frames', '0', /--val-frames.*expected an integer ≥ 1/],
      ['qdbev', '--lr', '-1', /--lr.*expected a positive number/],
      ['qdbev', '--vgd-gradient-share', '0', /--vgd-gradient-share.*expected a positive number/],
    ] as const;
    for (const [name, flag, value, message] of bad) {
      const { p, out } = program();
      await expect(p.parseAsync(['node', 'bevzip', 'bench', name, flag, value])).rejects.toThrow(CommanderError);
      expect(out()).toMatch(message);
    }
  });
});
