// Docker's .dockerignore matching, to test which paths the build context keeps. The images are
// built for real by cluster/images/build.sh (buildah) and run by cluster/images/test.
import { posix } from 'node:path';

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
