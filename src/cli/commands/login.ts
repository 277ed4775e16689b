/**
 * berth login / logout: credentials checked by the daemon (POST /auth, which talks to
 * the registry) and stored the way docker stores them (see login-store.ts).
 */
import type { Command } from 'commander';
import type { Act, Ctx } from '../context.js';
import { CliError } from '../errors.js';
import { eraseCredentials, HUB_KEY, serverKey, storeCredentials } from './login-store.js';

async function readStdin(): Promise<string> {
  let s = '';
  for await (const c of process.stdin) s += c.toString();
  return s.replace(/\r?\n$/, '');
}

async function prompt(ctx: Ctx, question: string, hidden: boolean): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`Error: Cannot perform an interactive login from a non TTY device`, 1);
  ctx.out.write(question);
  const stdin = process.stdin;
  if (hidden) stdin.setRawMode(true);
  return new Promise((resolve) => {
    let buf = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString()) {
        if (ch === '\r' || ch === '\n') {
          stdin.removeListener('data', onData);
          if (hidden) { stdin.setRawMode(false); ctx.out.write('\n'); }
          stdin.pause();
          resolve(buf);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

export function registerLogin(parent: Command, ctx: Ctx, act: Act): void {
  parent.command('login').description('Authenticate to a registry')
    .usage('[OPTIONS] [SERVER]').argument('[server]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password or Personal Access Token (PAT)')
    .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
    .action(act(1, async (server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (o.password && o.passwordStdin) throw new CliError('--password and --password-stdin are mutually exclusive', 1);
      if (o.passwordStdin && !o.username) throw new CliError('Must provide --username with --password-stdin', 1);
      if (o.password) ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      const username = o.username ?? (await prompt(ctx, 'Username: ', false)).trim();
      const password = o.passwordStdin ? await readStdin() : o.password ?? (await prompt(ctx, 'Password: ', true));
      if (!username) throw new CliError('Error: Non-null Username Required', 1);
      if (!password) throw new CliError('Error: Password Required', 1);
      const key = serverKey(server);
      const res = await ctx.client().json<{ Status?: string; IdentityToken?: string }>('POST', '/auth', {
        body: { username, password, serveraddress: key === HUB_KEY ? HUB_KEY : key },
      });
      const path = storeCredentials(key, username, password, res?.IdentityToken || undefined);
      ctx.err.write(`WARNING! Your password will be stored unencrypted in ${path}.\n`);
      ctx.out.write(`${res?.Status || 'Login Succeeded'}\n`);
    }));

  parent.command('logout').description('Log out from a registry')
    .usage('[SERVER]').argument('[server]')
    .action(act(1, async (server: string | undefined) => {
      const key = serverKey(server);
      if (!eraseCredentials(key)) ctx.out.write(`Not logged in to ${key}\n`);
      else ctx.out.write(`Removing login credentials for ${key}\n`);
    }));
}
