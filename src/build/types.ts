/** The build service's surface: what the api passes in and the messages it streams out. */
import type { Readable } from 'node:stream';
import { BerthError } from '../common/errors.js';

export interface BuildOptions {
  /** The request body: a tar (plain or gzip) of the context, or a bare Dockerfile. */
  context: Readable;
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  dockerfile?: string;
  tags: string[];
  /** --build-arg; a null value means "take it from the client's environment" and was unset there. */
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** Remove intermediate containers after a successful step (default true). */
  rm?: boolean;
  /** Remove them after a failed step too. */
  forceRm?: boolean;
  networkMode?: string;
  extraHosts?: string[];
  shmSize?: number;
  platform?: string;
  signal?: AbortSignal;
}

/** One line of docker's classic build stream. */
export type BuildMessage =
  | { stream: string }
  | { aux: { ID: string } }
  | { status: string; id?: string; progress?: string; progressDetail?: object };

export interface ImageBuilder {
  /** Runs the build, streaming messages; resolves with the image id, throws on failure. */
  build(opts: BuildOptions, emit: (m: BuildMessage) => void): Promise<string>;
}

/** A RUN that exited non-zero: docker's message and the exit code as errorDetail.code. */
export class StepFailed extends BerthError {
  constructor(message: string, readonly exitCode: number) {
    super('FAILED_PRECONDITION', message);
  }
}
