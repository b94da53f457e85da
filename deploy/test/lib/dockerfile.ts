// Just enough of Docker to run our Dockerfile without an engine: the .dockerignore filter that
// makes the build context, and the instructions FROM/ARG/ENV/WORKDIR/COPY/RUN/USER/CMD executed in
// one directory per stage (the stage's "/"). Base image contents are the host's node and npm.
// Anything the Dockerfile uses beyond this subset is an error, not silently ignored.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

/** Docker's .dockerignore rules: last matching pattern wins, a match on a parent dir counts. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const pattern = posix.normalize(l.replace(/^!/, '').replace(/^\/+/, '')).replace(/\/+$/, '');
      const re = pattern
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '\uE000'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\uE000\//g, '(?:.*/)?')
        .replace(/\/\uE000/g, '(?:/.*)?')
        .replace(/\uE000/g, '.*');
      return { include, re: new RegExp(`^${re}$`) };
    });
  return (path: string) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.include;
    return excluded;
  };
}

/** Copies the files of `from` that .dockerignore keeps into `to`; returns their relative paths. */
export function buildContext(from: string, to: string): string[] {
  const ignored = dockerignore(readFileSync(join(from, '.dockerignore'), 'utf8'));
  const kept: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(from, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (name === '.git' || name === 'node_modules') continue; // never needed, and huge
      if (statSync(join(from, path)).isDirectory()) walk(path);
      else if (!ignored(path)) {
        mkdirSync(dirname(join(to, path)), { recursive: true });
        cpSync(join(from, path), join(to, path));
        kept.push(path);
      }
    }
  };
  walk('');
  return kept;
}

type Instruction = { op: string; args: string };

function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** KEY=VALUE pairs with optional double quotes (ENV, LABEL, ARG defaults). */
function pairs(s: string): Array<[string, string]> {
  return [...s.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map((m) => [
    m[1]!,
    m[2]!.replace(/^"|"$/g, ''),
  ]);
}

export interface Image {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd: string[];
  labels: Record<string, string>;
}

export interface BuildOptions {
  dockerfile: string;
  context: string;
  /** One directory per stage is created under here. */
  workDir: string;
  buildArgs: Record<string, string>;
  /** Extra environment for RUN steps only (e.g. npm's cache), never part of the image. */
  runEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export function build(opts: BuildOptions): Image {
  const stages = new Map<string, Image>();
  const globalArgs: Record<string, string> = {};
  let stage: (Image & { args: Record<string, string> }) | undefined;
  let index = 0;
  const expand = (s: string, vars: Record<string, string>) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => vars[a ?? b] ?? '');
  const inStage = (p: string) =>
    join(stage!.root, posix.isAbsolute(p) ? p : posix.join(stage!.workdir, p));

  for (const { op, args } of instructions(readFileSync(opts.dockerfile, 'utf8'))) {
    const vars = { ...globalArgs, ...(stage?.args ?? {}), ...(stage?.env ?? {}) };
    if (op === 'ARG') {
      const [[name, def] = [args, undefined]] = args.includes('=')
        ? pairs(args)
        : [[args, undefined]];
      const value =
        opts.buildArgs[name] ??
        (stage ? globalArgs[name] : undefined) ??
        (def !== undefined ? expand(def, vars) : '');
      if (stage) stage.args[name] = value;
      else globalArgs[name] = value;
    } else if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      const name = m[2] ?? String(index);
      const root = join(opts.workDir, `stage-${index++}-${name}`);
      mkdirSync(root, { recursive: true });
      stage = { root, workdir: '/', env: {}, cmd: [], labels: {}, args: {} };
      stages.set(name, stage);
    } else if (!stage) {
      throw new Error(`${op} before FROM`);
    } else if (op === 'WORKDIR') {
      stage.workdir = posix.resolve(stage.workdir, expand(args, vars));
      mkdirSync(inStage('.'), { recursive: true });
    } else if (op === 'ENV') {
      for (const [k, v] of pairs(args)) stage.env[k] = expand(v, vars);
    } else if (op === 'LABEL') {
      for (const [k, v] of pairs(args)) stage.labels[k] = expand(v, vars);
    } else if (op === 'COPY') {
      const words = expand(args, vars).split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const paths = words.filter((w) => !w.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice(7);
      if (flags.some((f) => !/^--(from|link)=?/.test(f)))
        throw new Error(`unsupported COPY flags: ${flags}`);
      const dest = paths.pop()!;
      for (const src of paths) {
        const source = from ? join(stages.get(from)!.root, src) : join(opts.context, src);
        if (!existsSync(source))
          throw new Error(`COPY ${src}: not in ${from ? `stage ${from}` : 'the build context'}`);
        const target =
          dest.endsWith('/') && !statSync(source).isDirectory()
            ? join(inStage(dest), posix.basename(src))
            : inStage(dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(source, target, { recursive: true, verbatimSymlinks: true });
      }
    } else if (op === 'RUN') {
      const cmd = expand(args.replace(/--mount=\S+\s*/g, ''), vars);
      opts.log?.(`RUN ${cmd}`);
      execFileSync('sh', ['-c', cmd], {
        cwd: inStage('.'),
        env: {
          PATH: process.env.PATH!,
          HOME: process.env.HOME!,
          ...opts.runEnv,
          ...stage.args,
          ...stage.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 << 20,
      });
    } else if (op === 'USER') {
      stage.user = args;
    } else if (op === 'CMD') {
      stage.cmd = JSON.parse(args);
    } else if (!['EXPOSE', 'STOPSIGNAL'].includes(op)) {
      throw new Error(`unsupported instruction ${op}`);
    }
  }
  return stage!;
}
