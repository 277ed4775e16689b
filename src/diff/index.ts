export { applyLayer, type ApplyResult } from './apply.js';
export { decompress, detectCompression, type Compression } from './decompress.js';
export { lgetxattr } from './syscalls.js';
