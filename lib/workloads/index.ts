// vkalloc/workloads: real GPU jobs built on vkalloc (the prefix sum the demo, the
// tests and the benchmark share) and the compute shaders they run.
export { runDemo } from './demo';
export type { DemoOptions, DemoResult } from './demo';
export { PrefixSum, prefixSumOnCpu } from './prefix-sum';
export type { PrefixSumOptions, PrefixSumResult } from './prefix-sum';
export { loadShader, SHADER_NAMES } from './shaders';
export type { ShaderName } from './shaders';
