import { Instant as InstantOf, Limit, Text, TimeIdCursor, Uuid } from '@shiftops/service-kit';
import Type, { type Static } from 'typebox';

const LocationId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Position = Text({
  minLength: 1,
  maxLength: 50,
  blank: false,
  description: 'Role or station worked, e.g. cook, server',
});
const Instant = InstantOf();
// What the API answers: UTC, millisecond precision, years 0001–9999.
const StoredInstant = Type.String({ format: 'date-time', description: 'RFC 3339 time, UTC' });
const BreakMinutes = Type.Integer({ minimum: 0, maximum: 720 });
const Notes = Type.Union([Text({ maxLength: 2000 }), Type.Null()]);

export const Shift = Type.Object(
  {
    id: Uuid,
    userId: Uuid,
    locationId: LocationId,
    position: Position,
    startsAt: StoredInstant,
    endsAt: StoredInstant,
    breakMinutes: BreakMinutes,
    notes: Notes,
    published: Type.Boolean(),
    createdAt: StoredInstant,
    updatedAt: StoredInstant,
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
    endsAt: InstantOf('After startsAt, at most 24 hours later; RFC 3339, years 0002–9998'),
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
    from: Type.Optional(InstantOf('Only shifts that end after this time (RFC 3339)')),
    to: Type.Optional(InstantOf('Only shifts that start before this time (RFC 3339)')),
    published: Type.Optional(Type.Boolean()),
    limit: Limit,
    cursor: Type.Optional(TimeIdCursor),
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
