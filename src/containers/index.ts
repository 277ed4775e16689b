export { Containers, createContainerService } from './service.js';
export type { ContainerDeps } from './deps.js';
export type * from './types.js';
