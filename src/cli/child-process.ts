/**
 * node:child_process, loaded on first use: at load it brings dgram and net internals
 * (~2 ms of every CLI start, measured), and most commands, `berth run` included, never spawn.
 */
export const childProcess = (): typeof import('node:child_process') => process.getBuiltinModule('node:child_process');
