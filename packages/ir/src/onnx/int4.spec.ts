import { packInt4 } from './export';

describe('INT4 packing', () => {
  it('packs two signed codes a byte, the first in the low nibble (two’s complement)', () => {
    expect(Array.from(packInt4([1, 2, 3, 4]))).toEqual([0x21, 0x43]);
    expect(Array.from(packInt4([-1, 7, -8]))).toEqual([0x7f, 0x08]);
    expect(Array.from(packInt4([0]))).toEqual([0]);
  });

  it('refuses a value outside [-8, 7] or not an integer, naming it', () => {
    expect(() => packInt4([0, 8])).toThrow('int4 initializer: value 8 at 1 is not an integer in [-8, 7]');
    expect(() => packInt4([0.5])).toThrow(/value 0\.5 at 0/);
  });
});
