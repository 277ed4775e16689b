export type { ImageService, ImageRecord, ImageFilters, ImportOptions, RemoveResult } from './types.js';
export { createImageService, type LocalImageService, type ImageServiceOptions, type NewImage } from './service.js';
export { parseReference, parseTagReference, familiarString, familiarName, normalizedString, withDefaultTag, type Reference } from './reference.js';
export { chainIds } from './layers.js';
export { parseTimestamp } from './prune.js';
export { openImportUrl } from './import-url.js';
export { checkImagePlatform } from './platform-match.js';
