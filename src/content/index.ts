export type { ContentStore, BlobInfo, BlobWriter, Expected } from './types.js';
export { createContentStore } from './store.js';
