// The build context .dockerignore leaves: sources and manifests in, local state, build output,
// tests and other folders out. The real build and run: cluster/images/test/images.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dockerignore } from './lib/dockerignore.ts';
import { repoDir } from './lib/manifests.ts';

describe('image build context', () => {
  it('.dockerignore keeps sources and manifests, drops local state and build output', () => {
    const ignored = dockerignore(readFileSync(join(repoDir, '.dockerignore'), 'utf8'));
    for (const kept of [
      'package-lock.json',
      'services/users/src/server.ts',
      'services/shifts/src/server.ts',
      'services/users/migrations/001_create_users.sql',
      'services/shifts/migrations/001.sql',
      'packages/service-kit/src/index.ts',
      'cli/package.json',
    ]) {
      assert.equal(ignored(kept), false, kept);
    }
    for (const dropped of [
      '.env',
      '.data/users/PG_VERSION',
      'services/users/dist/server.js',
      'node_modules/x/index.js',
      'services/users/test/api.test.ts',
      'services/users/tsconfig.tsbuildinfo',
      'deploy/base/users/deployment.yaml',
      '.git/HEAD',
      'cli/src/main.ts',
    ]) {
      assert.equal(ignored(dropped), true, dropped);
    }
  });
});
