// node-postgres suite against KalamDB's PostgreSQL listener (clients_test.go).
// Environment: PGHOST, PGPORT, ROOT_PW, PREFIX. Exits non-zero on failure.
'use strict';
const { Client } = require('pg');
const assert = require('assert');

const P = process.env.PREFIX || 'js';
const base = { host: process.env.PGHOST, port: Number(process.env.PGPORT), database: 'kalamdb' };

async function connect(user, password, ssl = { rejectUnauthorized: false }) {
  const c = new Client({ ...base, user, password, ssl });
  await c.connect();
  return c;
}

function ok(cond, what) {
  assert.ok(cond, 'FAIL: ' + what);
  console.log('ok:', what);
}

async function expectSQLState(c, sql, code, params) {
  try {
    await c.query(sql, params);
  } catch (e) {
    ok(e.code === code, `${sql} fails with SQLSTATE ${code} (got ${e.code}: ${e.message})`);
    return;
  }
  ok(false, `${sql} should fail with ${code}`);
}

async function main() {
  const root = await connect('root', process.env.ROOT_PW);
  ok(root.connection.stream.encrypted === true, 'TLS is in use');
  const plain = await connect('root', process.env.ROOT_PW, false);
  ok(!plain.connection.stream.encrypted, 'plain connection from loopback');
  await plain.end();
  const ns = P + '_ns';
  await root.query(`CREATE NAMESPACE ${ns}`);
  await root.query(`CREATE USER TABLE ${ns}.notes (id BIGINT PRIMARY KEY, body TEXT)`);
  await root.query(`CREATE SHARED TABLE ${ns}.pub (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC')`);
  await root.query(`CREATE SHARED TABLE ${ns}.priv (id BIGINT PRIMARY KEY, v TEXT)`);
  await root.query(`CREATE SHARED TABLE ${ns}.types (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f FLOAT, d DOUBLE, ` +
    `n DECIMAL(10,2), t TEXT, bs BYTEA, j JSON, ts TIMESTAMP, dt DATE, tm TIME, u UUID)`);
  await root.query(`CREATE USER ${P}_alice WITH PASSWORD 'alice-password-1' ROLE user`);
  await root.query(`CREATE USER ${P}_bob WITH PASSWORD 'bob-password-12' ROLE user`);
  ok(true, 'DDL');

  // Parameters of every type (extended protocol, text parameters).
  const ts = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
  const ins = await root.query(`INSERT INTO ${ns}.types (id, b, s, i, f, d, n, t, bs, j, ts, dt, tm, u) ` +
    'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)',
  ['9007199254740993', true, -7, 123456, 1.5, 2.25, '123.45', "héllo 'q'", Buffer.from([0, 1, 255]), JSON.stringify({ a: 1 }),
    ts, '2024-05-06', '13:14:15', '01234567-89ab-cdef-0123-456789abcdef']);
  ok(ins.rowCount === 1, 'INSERT with parameters of every type');
  const r = (await root.query(`SELECT id, b, s, i, f, d, n, t, bs, j, ts, dt, tm, u FROM ${ns}.types WHERE id = $1`, ['9007199254740993'])).rows[0];
  ok(r.id === '9007199254740993' && r.b === true && r.s === -7 && r.i === 123456, 'integers and boolean');
  ok(r.f === 1.5 && r.d === 2.25 && r.n === '123.45', 'floats and numeric');
  ok(r.t === "héllo 'q'" && Buffer.compare(r.bs, Buffer.from([0, 1, 255])) === 0, 'text and bytea');
  ok(r.j.a === 1, 'json');
  ok(r.ts.getTime() === new Date(2024, 4, 6, 7, 8, 9, 123).getTime(), 'timestamp ' + r.ts.toISOString());
  ok(r.tm === '13:14:15' && r.u === '01234567-89ab-cdef-0123-456789abcdef', 'time and uuid');
  await root.query(`INSERT INTO ${ns}.types (id, t) VALUES ($1, $2)`, [2, null]);
  const nulls = (await root.query(`SELECT t, b FROM ${ns}.types WHERE id = 2`)).rows[0];
  ok(nulls.t === null && nulls.b === null, 'NULL parameters and results');

  // DML row counts.
  ok((await root.query(`INSERT INTO ${ns}.pub (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`)).rowCount === 3, 'INSERT row count');
  ok((await root.query(`UPDATE ${ns}.pub SET v = 'z' WHERE id >= $1`, [2])).rowCount === 2, 'UPDATE row count');
  ok((await root.query(`DELETE FROM ${ns}.pub WHERE id = $1`, [3])).rowCount === 1, 'DELETE row count');
  await root.query(`INSERT INTO ${ns}.priv (id, v) VALUES (1, 'secret')`);

  // USER-table isolation between two logins.
  const alice = await connect(P + '_alice', 'alice-password-1');
  const bob = await connect(P + '_bob', 'bob-password-12');
  await alice.query(`INSERT INTO ${ns}.notes (id, body) VALUES (1, 'alice note')`);
  await bob.query(`INSERT INTO ${ns}.notes (id, body) VALUES (1, 'bob note')`);
  ok(JSON.stringify((await alice.query(`SELECT body FROM ${ns}.notes`)).rows) === '[{"body":"alice note"}]', 'alice sees only her row');
  ok(JSON.stringify((await bob.query(`SELECT body FROM ${ns}.notes WHERE id = $1`, [1])).rows) === '[{"body":"bob note"}]', 'bob sees only his row');

  // SHARED access levels.
  ok(JSON.stringify((await alice.query(`SELECT v FROM ${ns}.pub ORDER BY id`)).rows) === '[{"v":"a"},{"v":"z"}]', 'a user reads a PUBLIC shared table');
  await expectSQLState(alice, `SELECT v FROM ${ns}.priv`, '42501');
  await expectSQLState(alice, `INSERT INTO ${ns}.pub (id, v) VALUES (9, 'x')`, '42501');

  // Errors with SQLSTATE.
  await expectSQLState(root, `INSERT INTO ${ns}.pub (id, v) VALUES ($1, 'dup')`, '23505', [1]);
  await expectSQLState(root, 'SELEC 1', '42601');
  await expectSQLState(root, `SELECT * FROM ${ns}.missing`, '42P01');
  await expectSQLState(root, `SELECT missing FROM ${ns}.pub`, '42703');
  try {
    await connect(P + '_alice', 'wrong-password');
    ok(false, 'wrong password refused');
  } catch (e) {
    ok(e.code === '28P01', 'wrong password refused with 28P01');
  }
  await Promise.all([root.end(), alice.end(), bob.end()]);
  console.log('node suite passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
