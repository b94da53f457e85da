import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@shiftops/service-kit';
import { buildUsersApp } from './app.js';
import { UserRepository } from './repository.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const usersService: ServiceDefinition = {
  identity: { name: 'users', version: pkg.version },
  // Resolves the same from src/ (tests) and dist/ (built): both sit one level below the package.
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  buildApp: buildUsersApp,
  seed: (db, users) => new UserRepository(db).seed(users),
};
