export * from './build-spec.js';
export * from './capabilities.js';
export * from './seccomp.js';
export * from './seccomp-default.js';
export * from './ulimits.js';
export * from './resources.js';
export * from './defaults.js';
export * from './host-info.js';
