/**
 * How the CLI fails: one line on stderr, an exit status like docker's. Commands throw these;
 * main.ts prints them (never a stack trace).
 */

/** An error with its own exit status; `message` is printed as is. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** A bad flag value: docker's `invalid argument "v" for "-m, --memory" flag: why` (exit 125). */
export class FlagError extends CliError {
  constructor(value: string, flag: string, why: string) {
    super(`invalid argument "${value}" for "${flag}" flag: ${why}`, 125);
  }
}

/** Exit without printing anything (the container's status, or errors already printed). */
export class ExitStatus extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/**
 * docker run/create's shape for an error before the container runs (a bad option value,
 * a failed create or start): `docker: <err>`, a blank line, then the help hint naming
 * `run` or `create` (cli/command/container/run.go withHelp). Exit 125 unless given.
 */
export function withHelp(message: string, command: 'run' | 'create', exitCode = 125): CliError {
  return new CliError(`berth: ${message}\n\nRun 'berth ${command} --help' for more information`, exitCode);
}
