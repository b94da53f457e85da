import fc from 'fast-check';

// fast-check has no JSON Schema input, and the generators that do are unmaintained; this covers
// exactly the keywords our TypeBox schemas emit (type, format, enum/const, anyOf, min/max,
// required, $ref into components), which keeps it short.

export type Schema = Record<string, unknown> & {
  type?: string;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  items?: Schema;
  $ref?: string;
};

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

export function resolve(doc: OpenApiDoc, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(doc, target);
}

const iso = (d: Date) => d.toISOString();

/** Values that satisfy the schema (mostly): the happy paths get exercised too. */
export function valid(doc: OpenApiDoc, raw: Schema): fc.Arbitrary<unknown> {
  const s = resolve(doc, raw);
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => valid(doc, x)));
  switch (s.type) {
    case 'string':
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date-time')
        return fc
          .date({ min: new Date('2030-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
          .map(iso);
      if (s.format === 'email') return fc.emailAddress().filter((e) => e.length <= 254);
      return fc
        .string({
          minLength: Number(s.minLength ?? 0),
          maxLength: Math.min(Number(s.maxLength ?? 40), 40),
        })
        .map((v) => (s.pattern && !/\S/.test(v) ? `x${v}`.slice(0, Number(s.maxLength ?? 40)) : v));
    case 'integer':
      return fc.integer({ min: Number(s.minimum ?? -1000), max: Number(s.maximum ?? 1_000_000) });
    case 'number':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valid(doc, s.items ?? {}), { maxLength: 3 });
    case 'object': {
      const props = s.properties ?? {};
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valid(doc, v)]));
      const record = fc.record(model, {
        requiredKeys: (s.required ?? []).filter((k) => k in props),
      });
      if (!('startsAt' in props && 'endsAt' in props)) return record;
      // A time range the way a client sends one (end 1 min to 12 h after start, short break),
      // or else nearly every generated shift would fail the cross-field rules.
      return fc.oneof(
        record,
        fc.tuple(record, fc.integer({ min: 1, max: 720 })).map(([r, minutes]) => {
          const v = r as Record<string, unknown>;
          if (typeof v.startsAt !== 'string') return v;
          const end = new Date(Date.parse(v.startsAt) + minutes * 60_000).toISOString();
          return { ...v, endsAt: end, breakMinutes: Math.floor(minutes / 10) };
        }),
      );
    }
    default:
      return fc.jsonValue();
  }
}

/** A valid object broken in one way: a field dropped, retyped, or added; or any JSON at all. */
export function mutated(doc: OpenApiDoc, raw: Schema): fc.Arbitrary<unknown> {
  const s = resolve(doc, raw);
  const keys = Object.keys(s.properties ?? {});
  const base = valid(doc, s);
  if (keys.length === 0) return fc.jsonValue();
  return fc.oneof(
    fc.jsonValue(),
    fc
      .tuple(base, fc.constantFrom(...keys), fc.jsonValue())
      .map(([v, k, junk]) => ({ ...(v as object), [k]: junk })),
    fc.tuple(base, fc.constantFrom(...keys)).map(([v, k]) => {
      const copy = { ...(v as Record<string, unknown>) };
      delete copy[k];
      return copy;
    }),
    fc
      .tuple(base, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue())
      .map(([v, k, junk]) => ({ ...(v as object), [k]: junk })),
  );
}

/** Query values: valid ones as text, or arbitrary text. */
export function queryValue(doc: OpenApiDoc, schema: Schema): fc.Arbitrary<string> {
  return fc.oneof(
    valid(doc, schema).map((v) => String(v)),
    fc.string({ maxLength: 30 }),
    fc.constantFrom('', '-1', '1e9', 'null', 'true', '[]', '%00', '2030-13-45T99:99:99Z'),
  );
}
