/** Machine facts printed with every result, so figures are never quoted without context. */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { run } from './proc.mjs';

const first = async (cmd, args) => (await run(cmd, args).catch(() => ({ stdout: 'n/a' }))).stdout.split('\n')[0].trim();

export async function machineFacts() {
  const facts = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    runc: await first('runc', ['--version']),
    conmon: await first('conmon', ['--version']),
    dockerd: await first('dockerd', ['--version']),
    docker: await first('docker', ['--version']),
    podman: await first('podman', ['--version']),
  };
  // Other work on the machine moves absolute times; interleaving keeps the ratios fair.
  facts.loadavg = loadavg().map((l) => l.toFixed(2)).join(' ');
  facts.line = `load average ${facts.loadavg} at the end; machine: ${facts.cores} cores (${facts.cpu}), ${facts.memGiB} GiB, kernel ${facts.kernel}, node ${facts.node}; ${facts.runc}; ${facts.conmon}; ${facts.dockerd}; ${facts.docker}; ${facts.podman}`;
  return facts;
}
