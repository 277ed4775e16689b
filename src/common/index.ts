export * from './errors.js';
export * from './ids.js';
export * from './fs.js';
export * from './lock.js';
export * from './sleep.js';
