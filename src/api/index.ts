export { createApiServer, resolvePath } from './server.js';
export { API_VERSION, MIN_API_VERSION, apiErrorChannel, statusOf } from './http-util.js';
export type * from './types.js';
