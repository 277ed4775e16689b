export { readLogs } from './reader.js';
export { LogRotator, conmonLogCap, parseLogSize, parseLogOpts, DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, type LogRotation, type LogRotatorOptions } from './rotate.js';
export { parseRecord, formatRecord, LineAssembler, type LogRecord } from './format.js';
export { tailEntries } from './tail.js';
