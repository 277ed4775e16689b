export { Containers, createContainerService } from './service.js';
export type { ContainerDeps } from './deps.js';
export type * from './types.js';
export { parseRFC3339Nano } from './support/time.js';
