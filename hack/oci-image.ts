// Writes an OCI image archive (the layout `docker save`/`podman save --format oci-archive` write,
// and `ctr images import` reads) from root-filesystem directories, without Docker or a registry.
//   node --import tsx hack/oci-image.ts --out image.tar --ref localhost/name:tag \
//     [--entrypoint '["/x"]'] [--cmd '["y"]'] [--user 65532:65532] [--workdir /app] [--env K=V]... layer-dir...
// Each directory becomes one uncompressed layer, in order (later ones win). File times are
// zeroed and names sorted, so the same input gives the same digests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt, positionals: layerDirs } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    ref: { type: 'string' },
    entrypoint: { type: 'string' },
    cmd: { type: 'string' },
    user: { type: 'string' },
    workdir: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
  },
});
if (!opt.out || !opt.ref || layerDirs.length === 0) {
  console.error('usage: oci-image.ts --out FILE --ref NAME:TAG [options] layer-dir...');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'oci-'));
const blobs = join(work, 'blobs/sha256');
mkdirSync(blobs, { recursive: true });

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
}
/** Stores content as a blob; returns its descriptor fields. */
function blob(content: Buffer | string) {
  const digest = createHash('sha256').update(content).digest('hex');
  writeFileSync(join(blobs, digest), content);
  return { digest: `sha256:${digest}`, size: Buffer.byteLength(content) };
}
function fileDigest(path: string): string {
  // Streams through sha256sum: layers can be hundreds of MB.
  const r = spawnSync('sha256sum', [path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sha256sum ${path} failed`);
  return r.stdout.split(' ')[0]!;
}

const layers = layerDirs.map((dir) => {
  const tmp = join(work, 'layer.tar');
  sh('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '--xattrs', '-C', dir, '-cf', tmp, '.']);
  const digest = fileDigest(tmp);
  const size = statSync(tmp).size;
  renameSync(tmp, join(blobs, digest));
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${digest}`, size };
});

const json = (s: string | undefined) => (s === undefined ? undefined : (JSON.parse(s) as string[]));
const config = blob(
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: json(opt.entrypoint),
      Cmd: json(opt.cmd),
      User: opt.user,
      WorkingDir: opt.workdir,
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', ...opt.env],
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    history: layerDirs.map((d) => ({ created_by: `oci-image.ts layer ${d}` })),
  }),
);
const manifest = blob(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers,
  }),
);
writeFileSync(join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
writeFileSync(
  join(work, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...manifest,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: {
          'io.containerd.image.name': opt.ref,
          'org.opencontainers.image.ref.name': opt.ref.slice(opt.ref.lastIndexOf(':') + 1),
        },
      },
    ],
  }),
);
mkdirSync(dirname(opt.out), { recursive: true });
sh('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', work, '-cf', `${opt.out}.tmp`, '.']);
renameSync(`${opt.out}.tmp`, opt.out);
rmSync(work, { recursive: true, force: true });
console.log(`${opt.out}: ${opt.ref} ${manifest.digest} (${layers.length} layers)`);
