// Each overlay configures a token issuer the services accept; production a real one, over https,
// and without it `npm run validate` fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authConfigProblems } from '../scripts/auth-config.mjs';
import { envValue, ofKind, overlay, overlayNames, type K8sObject } from './lib/manifests.ts';

const copy = (objects: K8sObject[]) => JSON.parse(JSON.stringify(objects)) as K8sObject[];
const configOf = (objects: K8sObject[], svc: string) =>
  ofKind(objects, 'ConfigMap').find((c) => c.metadata.name.startsWith(`${svc}-config`))!;

describe('token issuer configuration in the overlays', () => {
  for (const name of overlayNames) {
    it(`${name}: issuer, audience and exactly one key source for both APIs`, () => {
      assert.deepEqual(authConfigProblems(overlay(name), name), []);
    });
  }

  it('production verifies against the issuer JWKS over https, never a development issuer', () => {
    const objects = overlay('production');
    for (const d of ofKind(objects, 'Deployment')) {
      const c = d.spec.template.spec.containers[0];
      assert.match(envValue(objects, c, 'AUTH_JWKS_URL') ?? '', /^https:\/\//);
      assert.equal(envValue(objects, c, 'AUTH'), undefined);
    }
  });

  it('local and staging read the development issuer JWKS from the cluster-provided ConfigMap', () => {
    for (const name of ['local', 'staging']) {
      for (const d of ofKind(overlay(name), 'Deployment')) {
        const jwks = d.spec.template.spec.containers[0].env.find(
          (e: { name: string }) => e.name === 'AUTH_JWKS',
        );
        assert.deepEqual(jwks.valueFrom.configMapKeyRef, {
          name: 'shiftops-dev-issuer',
          key: 'jwks.json',
        });
      }
    }
  });

  it('the check fails production without an issuer, with a dev issuer, with http, or with AUTH=disabled', () => {
    const cases: [string, (o: K8sObject[]) => void, RegExp][] = [
      [
        'no issuer',
        (o) => delete configOf(o, 'users').data.AUTH_ISSUER,
        /users: AUTH_ISSUER is not set/,
      ],
      [
        'no JWKS',
        (o) => delete configOf(o, 'shifts').data.AUTH_JWKS_URL,
        /shifts: needs exactly one of/,
      ],
      [
        'http JWKS',
        (o) => (configOf(o, 'users').data.AUTH_JWKS_URL = 'http://idp/jwks'),
        /over https/,
      ],
      [
        'dev issuer',
        (o) => (configOf(o, 'users').data.AUTH_ISSUER = 'https://dev-issuer.shiftops.localhost/'),
        /development issuer/,
      ],
      ['disabled', (o) => (configOf(o, 'users').data.AUTH = 'disabled'), /AUTH=disabled/],
    ];
    for (const [label, mutate, expected] of cases) {
      const objects = copy(overlay('production'));
      mutate(objects);
      const problems = authConfigProblems(objects, 'production');
      assert.ok(
        problems.some((p: string) => expected.test(p)),
        `${label}: ${problems.join('; ')}`,
      );
    }
  });
});
