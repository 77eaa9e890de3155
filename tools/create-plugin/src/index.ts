export { scaffoldFiles, writeScaffold } from './scaffold';
export type { Scaffold, ScaffoldOptions } from './scaffold';
export { pluginNames, CreatePluginError, CREATE_PLUGIN_ERRORS } from './names';
export type { PluginNames, Flavor, CreatePluginErrorCode } from './names';
export { bevzipVersions, THIRD_PARTY_VERSIONS, PLUGIN_API_RANGE } from './versions';
export type { BevzipVersions } from './versions';
export { pluginGenerator } from './generator';
export type { GeneratorTree, PluginGeneratorSchema } from './generator';
export { runCli, USAGE } from './cli';
