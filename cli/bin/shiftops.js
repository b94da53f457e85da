#!/usr/bin/env node
// The `shiftops` bin. npm links a bin only when its target exists at install time, and dist/ does
// not exist in a fresh clone before the build, so the bin is this committed file: it loads the
// compiled CLI (always present in the published package: `prepack` builds it), or, in a clone
// that has not been built, the TypeScript source through tsx (a dev dependency of the repo).
import { access } from 'node:fs/promises';

const exists = (url) =>
  access(url).then(
    () => true,
    () => false,
  );
const main = new URL('../dist/main.js', import.meta.url);
const source = new URL('../src/main.ts', import.meta.url);
if (await exists(main)) {
  await import(main.href);
} else if (await exists(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  process.stderr.write(
    'shiftops: the CLI is not built yet (cli/dist/main.js is missing); run `npm run build` at the repository root, then retry\n',
  );
  process.exit(69);
}
