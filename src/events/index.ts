export { EventBus } from './bus.js';
export { EventJournal } from './journal.js';
export type { EngineEvent } from './types.js';
export { eventNanos } from './bus.js';
