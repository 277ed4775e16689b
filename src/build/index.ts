export { createBuilder, Builder, type BuilderDeps } from './builder.js';
export { parseDockerfile, type Dockerfile, type Instruction } from './dockerfile-parse.js';
export type { BuildOptions, BuildMessage, ImageBuilder } from './types.js';
export { StepFailed } from './types.js';
