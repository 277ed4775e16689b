/** berth pull: the registry download with docker's output (live bars on a terminal). */
import type { Command } from 'commander';
import type { Act, Ctx } from '../context.js';
import { CliError } from '../errors.js';
import { displayJSONStream, pullImage, splitReference } from '../progress.js';
import { registryAuthHeader } from './login-store.js';

export function registerPull(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('pull').description('Download an image from a registry')
    .usage('[OPTIONS] NAME[:TAG|@DIGEST]').argument('<name>')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(act(1, async (name: string, o: { platform?: string; quiet?: boolean; allTags?: boolean }) => {
      if (o.allTags) {
        // docker's rule: a name only; the daemon pulls every tag when fromImage has none.
        if (/@|:[^/]*$/.test(name)) throw new CliError("tag can't be used with --all-tags/-a", 1);
        const sink = o.quiet ? ({ write: () => true } as unknown as NodeJS.WritableStream) : ctx.out;
        const res = await ctx.client().stream('POST', '/images/create', {
          query: { fromImage: name, platform: o.platform || undefined },
          headers: { 'X-Registry-Auth': registryAuthHeader(name) },
        });
        await displayJSONStream(res, sink);
        ctx.out.write(qualified(name) + '\n');
        return;
      }
      const r = splitReference(name);
      if (r.display !== name && !o.quiet) ctx.out.write('Using default tag: latest\n');
      const sink = o.quiet ? ({ write: () => true } as unknown as NodeJS.WritableStream) : ctx.out;
      await pullImage(ctx.client(), name, sink, o.platform);
      // docker prints the fully qualified name last.
      ctx.out.write(qualified(r.display) + '\n');
    }));
}

/** docker.io/library/busybox:latest for "busybox", unchanged for names with a registry. */
export function qualified(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash === -1 ? '' : ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return ref;
  return `docker.io/${slash === -1 ? 'library/' : ''}${ref}`;
}
