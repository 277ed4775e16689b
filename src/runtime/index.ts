export type * from './types.js';
export { ConmonRuntime, createConmonRuntime, specToJson, type ConmonRuntimeOptions } from './conmon-runtime.js';
export * from './spec/index.js';
