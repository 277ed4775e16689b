/** conmon's command line (see anchors doc §5), shared by create and exec. */
import { join } from 'node:path';

export interface ConmonArgsInput {
  cid: string;
  /** conmon's uuid: the container id, or the exec session id. */
  uuid: string;
  runcPath: string;
  runcRoot: string;
  /** conmon's bundle dir: attach socket, ctl fifo and pid files go here. */
  dir: string;
  exitDir: string;
  persistDir: string;
  /** 'k8s-file:<path>' or 'none'. */
  log: string;
  logLevel: 'info' | 'warn';
  logSizeMax?: number;
  terminal: boolean;
  stdin: boolean;
  leaveStdinOpen?: boolean;
  exec?: { processSpec: string; attach: boolean };
}

export function conmonArgs(i: ConmonArgsInput): string[] {
  const args = [
    '--api-version', '1',
    '-c', i.cid, '-u', i.uuid, '-n', i.cid,
    '-r', i.runcPath,
    '-b', i.dir,
    '-p', join(i.dir, 'pidfile'),
    '--exit-dir', i.exitDir,
    '--persist-dir', i.persistDir,
    '--full-attach',
    '-l', i.log,
    '--log-level', i.logLevel,
    '--conmon-pidfile', join(i.dir, 'conmon.pid'),
    // runc's global --root keeps this runtime's containers apart from any other's.
    `--runtime-arg=--root=${i.runcRoot}`,
  ];
  if (i.logSizeMax && i.logSizeMax > 0) args.push('--log-size-max', String(i.logSizeMax));
  if (i.terminal) args.push('-t');
  if (i.stdin) args.push('-i');
  if (i.stdin && i.leaveStdinOpen) args.push('--leave-stdin-open');
  if (i.exec) {
    args.push('-e', '--exec-process-spec', i.exec.processSpec);
    if (i.exec.attach) args.push('--exec-attach');
  }
  return args;
}
