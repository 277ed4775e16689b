/** berth push: upload an image to its registry; the last line is the registry's digest. */
import type { Command } from 'commander';
import type { Act, Ctx } from '../context.js';
import { enc } from '../context.js';
import { CliError } from '../errors.js';
import { displayJSONStream, splitReference } from '../progress.js';
import { registryAuthHeader } from './login-store.js';

export function registerPush(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('push').description('Upload an image to a registry')
    .usage('[OPTIONS] NAME[:TAG]').argument('<name>')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(act(1, async (name: string, o: { allTags?: boolean; quiet?: boolean }) => {
      if (name.includes('@')) throw new CliError(`invalid reference format: cannot push a digest reference (${name})`, 1);
      const r = splitReference(name);
      const explicit = r.display === name;
      if (explicit && o.allTags) throw new CliError(`tag can't be used with --all-tags/-a`, 1);
      if (!explicit && !o.allTags && !o.quiet) ctx.out.write('Using default tag: latest\n');
      const res = await ctx.client().stream('POST', `/images/${enc(r.repo)}/push`, {
        query: { tag: o.allTags ? undefined : r.tag },
        headers: { 'X-Registry-Auth': registryAuthHeader(r.repo) },
      });
      const msgs = await displayJSONStream(res, o.quiet ? ({ write: () => true, isTTY: false } as unknown as NodeJS.WritableStream) : ctx.out);
      if (o.quiet) ctx.out.write(name + '\n');
      if (!msgs.some((m) => m.aux && (m.aux as { Digest?: string }).Digest)) throw new CliError('push finished without a manifest digest', 1);
    }));
}
