/**
 * DELETE /containers/{parent}/{alias}?link=1 (docker rm --link): dockerd resolves
 * "/parent/alias" in its link index and drops that link from the parent, leaving both
 * containers alone. berth keeps legacy links only in the parent's HostConfig.Links, so
 * removing the link removes that entry: inspect stops showing it and the next start
 * of the parent no longer gets the alias in /etc/hosts or the link variables (a
 * running parent keeps what it has, as under dockerd).
 */
import { invalidArgument, notFound } from '../common/errors.js';
import type { ContainerManager } from './manager.js';
import { parseLink } from './support/link-env.js';

export async function removeLink(m: ContainerManager, name: string): Promise<void> {
  const path = name.replace(/^\/+/, '');
  const cut = path.lastIndexOf('/');
  // A plain name is a container's own name, not a link: dockerd refuses it the same way.
  if (cut <= 0) throw invalidArgument(`Conflict, cannot remove the default link name of the container ${path}: give the link as PARENT/ALIAS`);
  const parentRef = path.slice(0, cut);
  const alias = path.slice(cut + 1);
  let parent;
  try {
    parent = m.get(parentRef);
  } catch {
    throw notFound(`No such container: ${path}`);
  }
  await m.lock.run(parent.Id, async () => {
    m.assertCurrent(parent, parentRef);
    const links = parent.HostConfig.Links ?? [];
    // Only default-bridge links are in dockerd's link index; a user network's links are endpoint aliases.
    const mode = parent.HostConfig.NetworkMode ?? 'default';
    const legacy = mode === 'default' || mode === 'bridge';
    const keep = links.filter((l) => parseLink(l).alias !== alias);
    if (!legacy || keep.length === links.length) throw notFound(`No such container: ${path}`);
    parent.HostConfig = { ...parent.HostConfig, Links: keep.length ? keep : null };
    await m.store.save(parent);
  });
}
