/** ImageRecord → docker's image list and inspect JSON (the fields podman once missed, §2.6). */
import type { ImageRecord } from '../../images/types.js';
import type { ImageInspect, ImageSummary } from '../types.js';
import { ZERO_TIME } from './status.js';

function createdUnix(img: ImageRecord): number {
  const ms = Date.parse(img.config.created ?? '');
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export function imageSummaryWire(img: ImageRecord): ImageSummary {
  const labels = img.config.config?.Labels;
  return {
    Id: img.id,
    ParentId: '',
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Created: createdUnix(img),
    Size: img.size,
    VirtualSize: img.size,
    SharedSize: -1,
    Labels: labels && Object.keys(labels).length ? labels : null,
    Containers: -1,
  };
}

const EMPTY_CONFIG = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null,
  OnBuild: null, Labels: null,
};

export function imageInspectWire(img: ImageRecord): ImageInspect {
  const cfg = img.config.config ?? {};
  const out: ImageInspect = {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: '',
    Comment: img.config.comment ?? '',
    Created: img.config.created ?? ZERO_TIME,
    Container: '',
    DockerVersion: img.config.docker_version ?? '',
    Author: img.config.author ?? '',
    Config: { ...EMPTY_CONFIG, ...cfg },
    Architecture: img.config.architecture,
    Os: img.config.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: ZERO_TIME },
  };
  if (img.config.variant) out.Variant = img.config.variant;
  // The build container's config (berth images have none: dockerd's empty shape).
  // dockerd dropped it in API 1.45, which is what broke docker-compose 1.29 on new
  // engines (KeyError: 'ContainerConfig'): compose negotiates our newest version, so
  // berth keeps the field for every version. Clients that don't know it ignore it.
  out.ContainerConfig = { ...EMPTY_CONFIG };
  return out;
}
