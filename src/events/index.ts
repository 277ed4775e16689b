export { EventBus } from './bus.js';
export type { EngineEvent } from './types.js';
