import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoPrincipal } from '@shiftops/service-kit';
import { bearer, forEachDatabase } from '@shiftops/service-kit/testing';
import { UserRepository } from '../src/repository.js';
import { usersService } from '../src/service.js';

// npm start and `npm run token` derive the demo users' claims without asking the database.
forEachDatabase(usersService, (t) => {
  test('demoPrincipal(i) is demo user i as seeded: id, role and location', async () => {
    assert.equal(await new UserRepository(t.db).seed(300), 300);
    const { rows } = await t.db.query<{
      email: string;
      id: string;
      role: string;
      location_id: number;
    }>('SELECT email, id, role, location_id FROM users.users');
    assert.equal(rows.length, 300);
    for (const row of rows) {
      const i = Number(/^user(\d+)@/.exec(row.email)![1]);
      assert.deepEqual(demoPrincipal(i), {
        userId: row.id,
        role: row.role,
        locations: [row.location_id],
      });
    }
  });

  test("the printed manager token (user10) lists exactly location 1's users", async () => {
    const res = await t.app.inject({
      url: '/v1/users?limit=200',
      headers: await bearer(demoPrincipal(10)),
    });
    const items = res.json().items as { locationId: number }[];
    assert.equal(items.length, 60);
    assert.ok(items.every((u) => u.locationId === 1));
  });
});
