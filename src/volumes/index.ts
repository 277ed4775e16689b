export type { VolumeRecord, VolumeService } from './types.js';
export { createVolumeService, LocalVolumeService, VOLUME_NAME_RE, type VolumeServiceOptions } from './service.js';
export { copyImageDataIntoVolume } from './copy-up.js';
export { diskUsage } from './usage.js';
export { validateLocalOpts, volumeOciMount } from './local-opts.js';
