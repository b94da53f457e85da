import { IdCursor, Limit, Text, Uuid } from '@shiftops/service-kit';
import Type, { type Static } from 'typebox';

export const Role = Type.Union(
  [Type.Literal('employee'), Type.Literal('manager'), Type.Literal('admin')],
  {
    description: 'What the user may do in the product',
  },
);

const Name = Text({ minLength: 1, maxLength: 100, blank: false });
const Email = Type.String({ format: 'email', maxLength: 254 });
const LocationId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const User = Type.Object(
  {
    id: Uuid,
    email: Email,
    firstName: Name,
    lastName: Name,
    role: Role,
    locationId: LocationId,
    active: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', additionalProperties: false },
);
export type User = Static<typeof User>;

export const UserCreate = Type.Object(
  {
    email: Email,
    firstName: Name,
    lastName: Name,
    role: Role,
    locationId: LocationId,
    active: Type.Optional(Type.Boolean({ default: true })),
  },
  { $id: 'UserCreate', additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreate>;

export const UserPatch = Type.Object(
  {
    email: Type.Optional(Email),
    firstName: Type.Optional(Name),
    lastName: Type.Optional(Name),
    role: Type.Optional(Role),
    locationId: Type.Optional(LocationId),
    active: Type.Optional(Type.Boolean()),
  },
  { $id: 'UserPatch', additionalProperties: false, minProperties: 1 },
);
export type UserPatch = Static<typeof UserPatch>;

export const UserListQuery = Type.Object(
  {
    locationId: Type.Optional(LocationId),
    role: Type.Optional(Role),
    active: Type.Optional(Type.Boolean()),
    q: Type.Optional(
      Text({
        minLength: 1,
        maxLength: 100,
        description: 'Text search in first name, last name and email',
      }),
    ),
    limit: Limit,
    cursor: Type.Optional(IdCursor),
  },
  { additionalProperties: false },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const UserPage = Type.Object(
  {
    items: Type.Array(User),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as cursor to get the next page; null on the last page',
    }),
  },
  { $id: 'UserPage' },
);

export const UserIdParams = Type.Object({ id: Uuid });
