#!/usr/bin/env node
// The `shiftops` bin. npm links a bin only when its target exists at install time, and dist/ does
// not exist in a fresh clone before the build, so the bin is this committed file, which loads the
// compiled CLI (always present in the published package: `prepack` builds it).
import { access } from 'node:fs/promises';

const main = new URL('../dist/main.js', import.meta.url);
try {
  await access(main);
} catch {
  process.stderr.write(
    'shiftops: the CLI is not built yet (cli/dist/main.js is missing); run `npm run build` at the repository root, then retry\n',
  );
  process.exit(69);
}
await import(main.href);
