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
        ...(s === 503 || s === 429 ? { headers: RetryAfterHeader } : {}),
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

// Text PostgreSQL can store: anything but U+0000. Unpaired UTF-16 surrogates (which UTF-8 cannot
// encode, so they would come back as U+FFFD) are refused for every body string at once, as I-JSON
// (RFC 7493) requires: see well-formed.ts.
const STORABLE = '[^\\u0000]';
const VISIBLE = '[^\\u0000-\\u0020\\u007f]';

/** What a 400 says when a value misses one of these patterns, instead of the pattern itself. */
export const patternMessages = new Map<string, string>();

const TEXT_PATTERN = `^${STORABLE}*$`;
const NON_BLANK_PATTERN = `^${STORABLE}*${VISIBLE}${STORABLE}*$`;
patternMessages.set(TEXT_PATTERN, 'must not contain NUL (U+0000)');
patternMessages.set(
  NON_BLANK_PATTERN,
  'must contain a character other than a space or a control character, and no NUL (U+0000)',
);

/** Text a column can hold exactly; `blank: false` also needs one character that is not a space. */
export function Text(options: {
  minLength?: number;
  maxLength: number;
  blank?: boolean;
  description?: string;
}) {
  const { blank = true, ...rest } = options;
  return Type.String({
    ...rest,
    pattern: blank ? TEXT_PATTERN : NON_BLANK_PATTERN,
  });
}

// Hyphenated hex only: the uuid format also allows a urn:uuid: prefix PostgreSQL refuses.
const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
patternMessages.set(UUID_PATTERN, 'must be a UUID in hyphenated hex form');
export const Uuid = Type.String({ format: 'uuid', pattern: UUID_PATTERN, description: 'UUID' });

// RFC 3339 as PostgreSQL and JavaScript both store and print it exactly: offsets within ±15:59
// (PostgreSQL's limit), no leap second (both would move it to the next minute), and years
// 0002–9998, so that with any offset the instant stays within 0001–9999 in UTC, the years an
// RFC 3339 answer can show.
const INSTANT_PATTERN =
  '^(000[2-9]|00[1-9]\\d|0[1-9]\\d\\d|[1-8]\\d{3}|9[0-8]\\d\\d|99[0-8]\\d|999[0-8])-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])' +
  'T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-](0\\d|1[0-5]):[0-5]\\d)$';

patternMessages.set(
  INSTANT_PATTERN,
  'must be an RFC 3339 time such as 2026-11-23T09:00:00Z: years 0002–9998, seconds 00–59, offset Z or within ±15:59',
);

/** An instant in a request: RFC 3339 with an offset, in the range described above. */
export function Instant(description = 'RFC 3339 time with offset, years 0002–9998') {
  return Type.String({ format: 'date-time', pattern: INSTANT_PATTERN, description });
}

export const Limit = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: 200,
    default: 50,
    description: 'Page size',
  }),
);

/** The default page size, for handlers: the schema's default is applied by the validator. */
export const DEFAULT_LIMIT = 50;

// If-Match and If-None-Match take `*` or a comma-separated list of ETags (RFC 9110 §8.8.3,
// §13.1). A value of another form names no ETag, so it matches nothing: If-Match then fails with
// 412 (the write never happens), If-None-Match is simply not satisfied. No pattern in the schema:
// header generators cannot produce quoted values, and refusing them would be no safer.
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      maxLength: 256,
      description:
        'ETags from reads (`"3"`), a comma-separated list of them (`"3", "4"`), or `*`. The write happens only if the current ETag is one of them (strong comparison: a weak `W/"3"` never matches) or, for `*`, if the resource exists; otherwise 412. A value of another form matches nothing',
    }),
  ),
});

export const IfNoneMatchHeaders = Type.Object({
  'if-none-match': Type.Optional(
    Type.String({
      maxLength: 256,
      description:
        'ETags you hold (`"3"`, a comma-separated list, or `*`): when the current ETag is one of them (weak comparison, so `W/"3"` matches too), the answer is 304 without a body',
    }),
  ),
});

/** Response headers, for the OpenAPI document. */
export const ETagHeader = {
  etag: {
    description: 'Version of the resource (strong ETag, e.g. `"3"`)',
    schema: { type: 'string' },
  },
};
export const LocationHeader = {
  location: { description: 'Path of the created resource', schema: { type: 'string' } },
};
export const RetryAfterHeader = {
  'retry-after': {
    description: 'Seconds to wait before retrying',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
};

/** A JSON success response with its documented headers, for a route's `response` map. */
export function json(schema: object, description: string, headers: Record<string, object> = {}) {
  return {
    description,
    ...(Object.keys(headers).length ? { headers } : {}),
    content: { 'application/json': { schema } },
  };
}

/** 304 to a conditional GET: the ETag again, no body. */
export const NotModified = {
  description: 'Not modified: your copy (If-None-Match) is current',
  headers: ETagHeader,
  type: 'null',
};
