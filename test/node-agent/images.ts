// The images the node agent can run, each as a root directory made from what the image holds
// (test/env/build-images.sh). A container runs on its image's root, so a script that needs a
// tool its image lacks fails here as it would in production. Any other image fails to "pull".
import { lstatSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageRoot {
  root: string;
  /** The image's own environment (its Dockerfile's ENV), under the container's. */
  env: Record<string, string>;
}

/** An Alpine image's PATH, as the busybox and restic images set it. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Repository (without registry and `library/`) → root directory and the tags it stands for. */
const KNOWN: Record<string, { dir: string; tags: readonly string[] }> = {
  busybox: { dir: 'busybox', tags: ['', 'latest', 'stable'] },
  'restic/restic': { dir: 'restic', tags: ['', 'latest', '0.18.1'] },
};

export class ImageNotAvailable extends Error {}

/** `docker.io/library/busybox:1.36` → `{ repository: 'busybox', tag: '1.36' }`; digests are ignored. */
export function parseImage(image: string): { repository: string; tag: string } {
  const withoutDigest = image.split('@')[0] ?? '';
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : '';
  let repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  repository = repository.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
  return { repository, tag };
}

export function imageRoot(imagesDir: string, image: string): ImageRoot {
  const { repository, tag } = parseImage(image);
  const known = KNOWN[repository];
  const supported = Object.entries(KNOWN).map(([name, k]) => `${name}:${k.tags.filter((t) => t !== '').join('|')}`).join(', ');
  if (known === undefined || !known.tags.includes(tag)) {
    throw new ImageNotAvailable(`the node agent has no root file system for image "${image}" (it runs ${supported})`);
  }
  const root = join(imagesDir, known.dir);
  // lstat: the image's /bin/sh is a link into the image (to /bin/busybox), not into the host.
  if (lstatSync(join(root, 'bin', 'sh'), { throwIfNoEntry: false }) === undefined) throw new ImageNotAvailable(`image root ${root} is missing: run test/env/build-tools.sh`);
  return { root, env: { PATH: IMAGE_PATH } };
}
