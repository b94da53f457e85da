// Runs a locally built image the way a restricted pod runs it: runc (the node's runtime) on the
// image's own root filesystem, mounted read-only, as the image's user, no capabilities, no new
// privileges, only the given tmpfs and bind mounts writable. The container shares the host's
// network namespace so the test reaches it on 127.0.0.1 (a pod has its own; nothing here depends
// on that). The base spec is runc's own default (`runc spec`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const cache = join(process.env.SHIFTOPS_CACHE ?? join(homedir(), '.cache/shiftops'), 'images');
const storage = [
  '--root',
  join(cache, 'storage'),
  '--runroot',
  join(cache, 'run'),
  '--storage-driver',
  'overlay',
];
const RUNC_ROOT = '/run/shiftops-images-test-runc';

/** Removes runc's state directory once no container of ours is left in it (runc made it). */
export function removeRuncRoot(): void {
  try {
    rmdirSync(RUNC_ROOT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

export const buildah = (...args: string[]) => run('buildah', [...storage, ...args]);

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export function imageConfig(ref: string): ImageConfig {
  // buildah 1.28's --format has no json function: read the whole document.
  return JSON.parse(buildah('inspect', '--type', 'image', ref)).OCIv1.config ?? {};
}

/** The image's files, mounted from a working container; release() removes it. */
export function mountImage(ref: string): { root: string; release(): void } {
  const name = buildah('from', '--pull=never', ref);
  const root = buildah('mount', name);
  return { root, release: () => void spawnSync('buildah', [...storage, 'rm', name]) };
}

export interface RunOptions {
  env?: Record<string, string>;
  args?: string[];
  tmpfs?: string[];
  binds?: Array<{ source: string; destination: string }>;
}

export interface Container {
  readonly id: string;
  readonly process: ChildProcess;
  output(): string;
  /** Exit code of the container's process (runc run returns it). */
  exited: Promise<number | null>;
  /** PID of the container's first process on the host. */
  hostPid(): number;
  kill(signal: 'TERM' | 'INT' | 'KILL'): void;
  remove(): Promise<void>;
}

let seq = 0;

export function runImage(ref: string, options: RunOptions = {}): Container {
  const config = imageConfig(ref);
  const image = mountImage(ref);
  const bundle = mkdtempSync('/var/tmp/shiftops-runc-');
  spawnSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  const [uid, gid] = (config.User ?? '0:0').split(':').map(Number);
  const env = new Map((config.Env ?? []).map((e) => [e.split('=')[0]!, e]));
  for (const [k, v] of Object.entries(options.env ?? {})) env.set(k, `${k}=${v}`);
  spec.process = {
    ...spec.process,
    terminal: false,
    user: { uid, gid: gid ?? uid, additionalGids: [] },
    args: options.args ?? [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])],
    env: [...env.values()],
    cwd: config.WorkingDir || '/',
    capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
    noNewPrivileges: true,
  };
  spec.root = { path: image.root, readonly: true };
  spec.hostname = 'shiftops-test';
  spec.linux.namespaces = spec.linux.namespaces.filter(
    (n: { type: string }) => n.type !== 'network',
  );
  spec.mounts = [
    // Without a network namespace of its own, the container cannot mount a fresh sysfs.
    ...spec.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/sys')),
    ...(options.tmpfs ?? ['/tmp']).map((destination) => ({
      destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'mode=1777', 'size=256m'],
    })),
    ...(options.binds ?? []).map((b) => ({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: ['rbind', 'rw'],
    })),
  ];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

  const id = `shiftops-test-${process.pid}-${++seq}`;
  const child = spawn('runc', ['--root', RUNC_ROOT, 'run', '--bundle', bundle, id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    id,
    process: child,
    output: () => output,
    exited,
    hostPid() {
      const state = JSON.parse(run('runc', ['--root', RUNC_ROOT, 'state', id]));
      return state.pid as number;
    },
    kill(signal) {
      spawnSync('runc', ['--root', RUNC_ROOT, 'kill', id, signal]);
    },
    async remove() {
      if (child.exitCode === null) {
        spawnSync('runc', ['--root', RUNC_ROOT, 'kill', id, 'KILL']);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      spawnSync('runc', ['--root', RUNC_ROOT, 'delete', '--force', id]);
      image.release();
      rmSync(bundle, { recursive: true, force: true });
    },
  };
}
