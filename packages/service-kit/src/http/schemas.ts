import Type from 'typebox';

/** RFC 9457 body, for the OpenAPI document; extension members are allowed. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    ),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

/** Response schemas for the error statuses a route can return, with their real media type. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: 'RFC 9457 problem details',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });

export const Limit = Type.Integer({
  minimum: 1,
  maximum: 200,
  default: 50,
  description: 'Page size',
});

export const Cursor = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'Opaque cursor from the previous page’s nextCursor',
});

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'ETag from a read; the write fails with 412 when the resource changed',
    }),
  ),
});
