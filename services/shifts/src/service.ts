import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@shiftops/service-kit';
import { buildShiftsApp } from './app.js';
import { ShiftRepository } from './repository.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const shiftsService: ServiceDefinition = {
  identity: { name: 'shifts', version: pkg.version },
  // Resolves the same from src/ (tests) and dist/ (built): both sit one level below the package.
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  buildApp: buildShiftsApp,
  seed: (db, users) => new ShiftRepository(db).seed(users),
};
