/**
 * `docker commit`: the container's upper dir as a new layer on its image, with the
 * container's config (plus the request's overrides and --change lines) as the new
 * image's defaults. A running container is paused meanwhile unless pause=false (docker),
 * so the layer is a consistent snapshot of its files.
 */
import { BerthError, invalidArgument, notImplemented } from '../common/errors.js';
import type { ImageRuntimeConfig } from '../oci/image-spec.js';
import type { ImageArchiver } from '../images/archive.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import { changesLayer } from './changes.js';

export interface CommitRequest {
  reference?: string;
  comment?: string;
  author?: string;
  changes?: string[];
  pause?: boolean;
  config?: ImageRuntimeConfig;
}

/** What commit needs of the image service (images/archive.ts adds it in the daemon). */
type ImageCommitter = Pick<ImageArchiver, 'commit'>;

export async function commitContainer(
  m: ContainerManager,
  ref: string,
  req: CommitRequest,
  pausing: { pause(id: string): Promise<void>; unpause(id: string): Promise<void> },
): Promise<string> {
  const images = m.deps.images as unknown as Partial<ImageCommitter>;
  if (typeof images.commit !== 'function') throw notImplemented('this berthd cannot commit containers: its image service has no commit support');
  const c = m.get(ref);
  if (c.State.Status === 'removing') throw invalidArgument(`cannot commit container ${c.Id}: it is being removed`);
  const pause = req.pause !== false && c.State.Running && !c.State.Paused;
  if (pause) await pausing.pause(c.Id);
  try {
    const { tar, done } = await changesLayer(m, c.Id);
    const committing = images.commit({
      imageId: c.Image,
      layer: tar,
      containerConfig: c.Config,
      overrides: req.config,
      changes: req.changes,
      reference: req.reference,
      comment: req.comment,
      author: req.author,
      createdBy: createdBy(c),
    });
    // Both must succeed: a helper failure mid-tar shows as a truncated layer otherwise.
    const [img] = await Promise.all([committing, done.catch((err: unknown) => {
      tar.destroy();
      throw err;
    })]);
    m.publish(c, 'commit', { comment: req.comment ?? '', imageID: img.id, imageRef: req.reference ?? '' });
    return img.id;
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('INTERNAL', `committing container ${c.Id}: ${(err as Error).message}`, { cause: err });
  } finally {
    if (pause) await pausing.unpause(c.Id).catch(() => {});
  }
}

function createdBy(c: ContainerRecord): string {
  return [c.Path, ...c.Args].join(' ');
}
