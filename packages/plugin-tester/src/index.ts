export { PluginTester, checkCases } from './plugin-tester';
export type { PluginCase, PluginCases, CaseExpectation, PluginTesterOptions } from './plugin-tester';
export { conformance, CONFORMANCE_CHECKS } from './conformance';
export type { ConformanceCheck, ConformanceOptions } from './conformance';
export { jestGlobalsFramework } from './test-framework';
export type { TestFramework } from './test-framework';
export { runPlugin, syntheticData, maskedFraction } from './harness';
export type { HarnessResult, HarnessOptions } from './harness';
export { deepFreeze } from './deep-freeze';
