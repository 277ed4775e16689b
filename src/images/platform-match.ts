/**
 * `POST /containers/create?platform=…` (docker-py's run(platform=), docker run
 * --platform): dockerd refuses a local image of another platform with a 404, which
 * makes clients pull the wanted one instead of silently running the wrong binary.
 */
import { notFound } from '../common/errors.js';
import { parsePlatform, platformString } from './pull-platform.js';
import type { ImageRecord } from './types.js';

export function checkImagePlatform(img: ImageRecord, ref: string, spec: string): void {
  const want = parsePlatform(spec);
  const have = parsePlatform(`${img.config.os ?? 'linux'}/${img.config.architecture ?? want.architecture}${img.config.variant ? '/' + img.config.variant : ''}`);
  if (want.os === have.os && want.architecture === have.architecture && (!want.variant || want.variant === have.variant)) return;
  throw notFound(`image with reference ${ref} was found but does not match the specified platform: wanted ${platformString(want)}, actual: ${platformString(have)}`);
}
