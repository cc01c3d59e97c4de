#!/usr/bin/env python3
"""psycopg2 suite against KalamDB's PostgreSQL listener (clients_test.go).

Environment: PGHOST, PGPORT, ROOT_PW, PREFIX (unique names per run).
Exits non-zero on the first failed check.
"""
import datetime
import decimal
import os
import sys
import uuid

import psycopg2

HOST, PORT, ROOT_PW = os.environ["PGHOST"], os.environ["PGPORT"], os.environ["ROOT_PW"]
P = os.environ.get("PREFIX", "py")


def connect(user, pw, sslmode="require"):
    c = psycopg2.connect(host=HOST, port=PORT, user=user, password=pw, dbname="kalamdb", sslmode=sslmode)
    c.autocommit = True
    return c


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def expect_sqlstate(cur, sql, code, params=None):
    try:
        cur.execute(sql, params)
    except psycopg2.Error as e:
        check(e.pgcode == code, f"{sql!r} fails with SQLSTATE {code} (got {e.pgcode}: {e.pgerror})")
        return
    check(False, f"{sql!r} should fail with {code}")


root = connect("root", ROOT_PW)
check(root.info.ssl_in_use, "TLS is in use (sslmode=require)")
plain = connect("root", ROOT_PW, sslmode="disable")
check(not plain.info.ssl_in_use, "plain connection from loopback")
cur = root.cursor()
ns = P + "_ns"
cur.execute(f"CREATE NAMESPACE {ns}")
cur.execute(f"CREATE USER TABLE {ns}.notes (id BIGINT PRIMARY KEY, body TEXT)")
cur.execute(f"CREATE SHARED TABLE {ns}.pub (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC')")
cur.execute(f"CREATE SHARED TABLE {ns}.priv (id BIGINT PRIMARY KEY, v TEXT)")
cur.execute(f"CREATE SHARED TABLE {ns}.types (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f FLOAT, d DOUBLE, "
            "n DECIMAL(10,2), t TEXT, bs BYTEA, j JSON, ts TIMESTAMP, dt DATE, tm TIME, u UUID)")
cur.execute(f"CREATE USER {P}_alice WITH PASSWORD 'alice-password-1' ROLE user")
cur.execute(f"CREATE USER {P}_bob WITH PASSWORD 'bob-password-12' ROLE user")
check(True, "DDL")

# Parameters of every type.
ts = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
day = datetime.date(2024, 5, 6)
u = uuid.UUID("0123456789abcdef0123456789abcdef")
cur.execute(f"INSERT INTO {ns}.types (id, b, s, i, f, d, n, t, bs, j, ts, dt, tm, u) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (9007199254740993, True, -7, 123456, 1.5, 2.25, decimal.Decimal("123.45"), "héllo 'q'",
             psycopg2.Binary(b"\x00\x01\xff"), '{"a": 1}', ts, day, datetime.time(13, 14, 15), str(u)))
check(cur.rowcount == 1, "INSERT with parameters of every type")
cur.execute(f"SELECT id, b, s, i, f, d, n, t, bs, j, ts, dt, tm, u FROM {ns}.types WHERE id = %s", (9007199254740993,))
row = cur.fetchone()
check(row[0] == 9007199254740993 and row[1] is True and row[2] == -7 and row[3] == 123456, f"integers and boolean {row[:4]}")
check(row[4] == 1.5 and row[5] == 2.25 and row[6] == decimal.Decimal("123.45"), f"floats and numeric {row[4:7]}")
check(row[7] == "héllo 'q'" and bytes(row[8]) == b"\x00\x01\xff", f"text and bytea {row[7:9]}")
check(row[9] == {"a": 1} or row[9] == '{"a": 1}', f"json {row[9]!r}")
check(row[10] == ts and row[11] == day and row[12] == datetime.time(13, 14, 15), f"temporal {row[10:13]}")
check(str(row[13]) == str(u), f"uuid {row[13]}")
cur.execute(f"INSERT INTO {ns}.types (id, t) VALUES (%s, %s)", (2, None))
cur.execute(f"SELECT t, b FROM {ns}.types WHERE id = 2")
check(cur.fetchone() == (None, None), "NULL parameters and results")

# DML row counts.
cur.execute(f"INSERT INTO {ns}.pub (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
check(cur.rowcount == 3, "INSERT row count")
cur.execute(f"UPDATE {ns}.pub SET v = 'z' WHERE id >= %s", (2,))
check(cur.rowcount == 2, "UPDATE row count")
cur.execute(f"DELETE FROM {ns}.pub WHERE id = %s", (3,))
check(cur.rowcount == 1, "DELETE row count")
cur.execute(f"INSERT INTO {ns}.priv (id, v) VALUES (1, 'secret')")

# USER-table isolation between two logins.
alice, bob = connect(P + "_alice", "alice-password-1"), connect(P + "_bob", "bob-password-12")
ac, bc = alice.cursor(), bob.cursor()
ac.execute(f"INSERT INTO {ns}.notes (id, body) VALUES (1, 'alice note')")
bc.execute(f"INSERT INTO {ns}.notes (id, body) VALUES (1, 'bob note')")
ac.execute(f"SELECT body FROM {ns}.notes")
check(ac.fetchall() == [("alice note",)], "alice sees only her row")
bc.execute(f"SELECT body FROM {ns}.notes WHERE id = %s", (1,))
check(bc.fetchall() == [("bob note",)], "bob sees only his row")

# SHARED access levels.
ac.execute(f"SELECT v FROM {ns}.pub ORDER BY id")
check(ac.fetchall() == [("a",), ("z",)], "a user reads a PUBLIC shared table")
expect_sqlstate(ac, f"SELECT v FROM {ns}.priv", "42501")
expect_sqlstate(ac, f"INSERT INTO {ns}.pub (id, v) VALUES (9, 'x')", "42501")

# Errors with SQLSTATE.
expect_sqlstate(cur, f"INSERT INTO {ns}.pub (id, v) VALUES (1, 'dup')", "23505")
expect_sqlstate(cur, "SELEC 1", "42601")
expect_sqlstate(cur, f"SELECT * FROM {ns}.missing", "42P01")
expect_sqlstate(cur, f"SELECT missing FROM {ns}.pub", "42703")
try:
    connect(P + "_alice", "wrong-password")
    check(False, "wrong password refused")
except psycopg2.OperationalError as e:
    check("password authentication failed" in str(e), "wrong password refused")
print("python suite passed")
