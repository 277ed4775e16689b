export { applyLayer, type ApplyResult } from './apply.js';
export { decompress, detectCompression, type Compression } from './decompress.js';
export { lgetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from './syscalls.js';
