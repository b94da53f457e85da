import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { forEachDatabase } from '@shiftops/service-kit/testing';
import type { ServiceDefinition } from '@shiftops/service-kit';
import { shiftsService } from '../../services/shifts/src/service.js';
import { usersService } from '../../services/users/src/service.js';
import {
  mutated,
  queryValue,
  resolve,
  valid,
  type OpenApiDoc,
  type Operation,
  type Schema,
} from './openapi-arbitraries.js';

const RUNS_PER_SERVICE = 600;

interface GeneratedRequest {
  method: string;
  url: string;
  body?: unknown;
  op: Operation;
}

function requests(doc: OpenApiDoc, knownIds: string[]): fc.Arbitrary<GeneratedRequest> {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  return fc.oneof(
    ...ops.map(({ path, method, op }) => {
      const params = op.parameters ?? [];
      const query = params.filter((p) => p.in === 'query');
      const id = fc.oneof(
        fc.uuid(),
        fc.string({ maxLength: 40 }),
        fc
          .nat()
          .map(
            (i) =>
              knownIds[i % Math.max(knownIds.length, 1)] ?? '00000000-0000-4000-8000-000000000000',
          ),
      );
      const queryArb = fc
        .tuple(
          fc
            .subarray(query)
            .chain((chosen) =>
              fc.tuple(
                ...chosen.map((p) =>
                  queryValue(doc, p.schema).map((v): [string, string] => [p.name, v]),
                ),
              ),
            ),
          fc.option(
            fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 })),
            { freq: 5 },
          ),
        )
        .map(([pairs, extra]) =>
          new URLSearchParams([...pairs, ...(extra ? [extra] : [])]).toString(),
        );
      const bodySchema = op.requestBody?.content['application/json']?.schema;
      const body = bodySchema
        ? fc.oneof(valid(doc, bodySchema), mutated(doc, bodySchema))
        : fc.constant(undefined);
      return fc.tuple(id, queryArb, body).map(([idValue, qs, b]) => ({
        method,
        url: path.replace('{id}', encodeURIComponent(idValue)) + (qs ? `?${qs}` : ''),
        body: b,
        op,
      }));
    }),
  );
}

function fuzz(service: ServiceDefinition) {
  forEachDatabase(service, (t) => {
    test(`${RUNS_PER_SERVICE} generated requests from the OpenAPI document: no 5xx, 2xx match their schema, errors are problem+json`, async () => {
      const doc = (await t.app.inject('/openapi.json')).json() as OpenApiDoc;
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats.default(ajv);
      const knownIds: string[] = [];
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(requests(doc, knownIds), async (req) => {
          const res = await t.app.inject({
            method: req.method as 'GET',
            url: req.url,
            ...(req.body === undefined
              ? {}
              : {
                  payload: JSON.stringify(req.body),
                  headers: { 'content-type': 'application/json' },
                }),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          assert.ok(
            res.statusCode < 500,
            `${req.method} ${req.url} ${JSON.stringify(req.body)} → ${res.statusCode} ${res.body}`,
          );
          if (res.statusCode >= 400) {
            assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
            assert.equal(res.json().status, res.statusCode);
            return;
          }
          const documented = req.op.responses[String(res.statusCode)];
          assert.ok(documented, `${res.statusCode} is not documented for ${req.method} ${req.url}`);
          const schema = documented.content?.['application/json']?.schema as Schema | undefined;
          if (!schema || res.statusCode === 204) return;
          const validate = ajv.compile({ ...resolve(doc, schema), components: doc.components });
          const body = res.json();
          assert.ok(
            validate(body),
            `${req.method} ${req.url} → body does not match its schema: ${ajv.errorsText(validate.errors)}`,
          );
          if (res.statusCode === 201) knownIds.push((body as { id: string }).id);
        }),
        { numRuns: RUNS_PER_SERVICE },
      );
      const summary = [...statuses]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
      console.log(`${service.identity.name}/${t.backend}: ${summary}`);
      assert.ok((statuses.get(201) ?? 0) > 0, 'some generated creates were valid');
      assert.ok((statuses.get(400) ?? 0) > 0, 'some generated requests were invalid');
    });
  });
}

fuzz(usersService);
fuzz(shiftsService);
