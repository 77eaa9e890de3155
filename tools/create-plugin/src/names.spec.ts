import { CREATE_PLUGIN_ERRORS, CreatePluginError, pluginNames } from './names';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CreatePluginError ? e.code : `not a CreatePluginError: ${String(e)}`;
  }
  return undefined;
}

describe('pluginNames', () => {
  it('takes a bare name as the package name of a standalone plugin', () => {
    expect(pluginNames('my-method')).toEqual({ packageName: 'my-method', folder: 'my-method', factory: 'myMethod', optionsSchema: 'myMethodOptions' });
  });

  it('keeps a scope and drops a bevzip-plugin- prefix from the identifiers', () => {
    expect(pluginNames('@acme/bevzip-plugin-fast-kd')).toEqual({ packageName: '@acme/bevzip-plugin-fast-kd', folder: 'bevzip-plugin-fast-kd', factory: 'fastKd', optionsSchema: 'fastKdOptions' });
  });

  it('names a workspace plugin like bevzip’s own packages', () => {
    expect(pluginNames('uni-distill', 'workspace')).toMatchObject({ packageName: '@bevzip/plugin-uni-distill', folder: 'plugin-uni-distill', factory: 'uniDistill' });
  });

  it('prefixes identifiers that would start with a digit', () => {
    expect(pluginNames('3d-prune').factory).toBe('plugin3dPrune');
  });

  it.each(['My-Method', 'has space', '', '@scope/', '.hidden', 'a'.repeat(215)])('rejects %j with E_PLUGIN_NAME', (name) => {
    expect(codeOf(() => pluginNames(name))).toBe(CREATE_PLUGIN_ERRORS.NAME);
  });

  it('rejects workspace method names that are not lowercase words', () => {
    expect(codeOf(() => pluginNames('x.y', 'workspace'))).toBe(CREATE_PLUGIN_ERRORS.NAME);
  });

  it('says what a valid name looks like', () => {
    expect(() => pluginNames('Bad')).toThrow(/plugin name 'Bad' is not a valid npm package name: expected lowercase/);
  });
});
