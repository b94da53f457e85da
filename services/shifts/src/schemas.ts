import { Cursor, Limit, Uuid } from '@shiftops/service-kit';
import Type, { type Static } from 'typebox';

const LocationId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Position = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '\\S',
  description: 'Role or station worked, e.g. cook, server',
});
const Instant = Type.String({ format: 'date-time', description: 'RFC 3339 time with offset' });
const BreakMinutes = Type.Integer({ minimum: 0, maximum: 720 });
const Notes = Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]);

export const Shift = Type.Object(
  {
    id: Uuid,
    userId: Uuid,
    locationId: LocationId,
    position: Position,
    startsAt: Instant,
    endsAt: Instant,
    breakMinutes: BreakMinutes,
    notes: Notes,
    published: Type.Boolean(),
    createdAt: Instant,
    updatedAt: Instant,
  },
  { $id: 'Shift', additionalProperties: false },
);
export type Shift = Static<typeof Shift>;

export const ShiftCreate = Type.Object(
  {
    userId: Uuid,
    locationId: LocationId,
    position: Position,
    startsAt: Instant,
    endsAt: Type.String({
      format: 'date-time',
      description: 'After startsAt, at most 24 hours later',
    }),
    breakMinutes: Type.Optional(BreakMinutes),
    notes: Type.Optional(Notes),
    published: Type.Optional(Type.Boolean()),
  },
  { $id: 'ShiftCreate', additionalProperties: false },
);
export type ShiftCreate = Static<typeof ShiftCreate>;

export const ShiftPatch = Type.Object(
  {
    userId: Type.Optional(Uuid),
    locationId: Type.Optional(LocationId),
    position: Type.Optional(Position),
    startsAt: Type.Optional(Instant),
    endsAt: Type.Optional(Instant),
    breakMinutes: Type.Optional(BreakMinutes),
    notes: Type.Optional(Notes),
    published: Type.Optional(Type.Boolean()),
  },
  { $id: 'ShiftPatch', additionalProperties: false, minProperties: 1 },
);
export type ShiftPatch = Static<typeof ShiftPatch>;

export const ShiftListQuery = Type.Object(
  {
    userId: Type.Optional(Uuid),
    locationId: Type.Optional(LocationId),
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only shifts that end after this time' }),
    ),
    to: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only shifts that start before this time' }),
    ),
    published: Type.Optional(Type.Boolean()),
    limit: Limit,
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type ShiftListQuery = Static<typeof ShiftListQuery>;

export const ShiftPage = Type.Object(
  {
    items: Type.Array(Shift),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as cursor to get the next page; null on the last page',
    }),
  },
  { $id: 'ShiftPage' },
);

export const ShiftIdParams = Type.Object({ id: Uuid });
