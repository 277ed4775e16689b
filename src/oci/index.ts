export type * from './runtime-spec.js';
export * from './image-spec.js';
export type * from './docker-config.js';
export * from './ports.js';
