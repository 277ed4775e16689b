/**
 * The copy helper's `populate` job: docker's copy-up of an image's content at a volume's
 * mount path into a new, empty volume, done where no path can lead out of the volume.
 *
 * A volume can be mounted in running containers while a new container populates it, so
 * its tree is hostile: a container can swap any directory of it for a symlink between
 * our mkdir and the writes below it (measured: image files written into a host
 * directory, and a host file hard-linked into the volume, with berthd copying on host
 * paths). So the copy runs in the helper's private mount namespace, chrooted into a
 * tmpfs view that holds only the new container's rootfs (read-only) at /rootfs and the
 * one volume at /volume. Whatever a racing container plants, the kernel resolves it in
 * that view: the worst a swap can do is to send our writes into the tmpfs, which
 * vanishes with the helper, or against the read-only rootfs.
 */
import { mkdir } from 'node:fs/promises';
import { mountOne, type Mount } from '../mount/mount.js';
import { copyImageDataIntoVolume } from '../volumes/copy-up.js';
import { resolveInRoot } from './support/in-root.js';
import { chrootInto } from './support/chroot.js';

export interface PopulateJob {
  /** An empty dir the view is mounted on (in the helper's namespace only). */
  root: string;
  /** The new container's rootfs mounts (its overlay). */
  mounts: Mount[];
  /** The path in the container whose image content goes into the volume. */
  target: string;
  /** The volume's directory on the host. */
  volume: string;
}

export async function populateVolume(job: PopulateJob): Promise<{ copied: boolean }> {
  await mountOne({ type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=700', 'size=64k'] }, job.root);
  await mkdir(`${job.root}/rootfs`);
  await mkdir(`${job.root}/volume`);
  for (const m of job.mounts) await mountOne({ ...m, options: [...m.options, 'ro'] }, `${job.root}/rootfs`);
  await mountOne({ type: 'bind', source: job.volume, options: ['bind'] }, `${job.root}/volume`);
  chrootInto(job.root);
  // The rootfs is the new container's own (nothing runs in it yet): its symlinks are
  // resolved inside it, as the container will see them.
  const src = await resolveInRoot('/rootfs', job.target);
  return { copied: await copyImageDataIntoVolume(src, '/volume') };
}
