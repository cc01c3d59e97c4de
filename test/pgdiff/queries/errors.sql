-- Ordinary mistakes a user makes, each refused by PostgreSQL: our error's
-- SQLSTATE (the one the wire protocol sends) must be PostgreSQL's.
-- undefined table, column, function, type
SELECT * FROM pd.nope;
SELECT id FROM pd.sh_hot x JOIN pd.nope y ON x.id = y.id;
SELECT zz FROM pd.sh_hot;
SELECT id FROM pd.us_cold WHERE zz > 1;
SELECT id FROM pd.st_items ORDER BY zz;
SELECT x.zz FROM pd.sh_mix x;
SELECT nope.id FROM pd.sh_hot;
SELECT nofunc(1);
SELECT nofunc(n) FROM pd.sh_cold;
SELECT abs(1, 2);
SELECT upper() FROM pd.us_hot;
SELECT 'x'::nosuchtype;
-- syntax
SELECT FROM WHERE;
SELECT 1 +;
SELECT id FROM pd.sh_hot WHERE id = 1 AND;
SELECT id FROM pd.sh_hot ORDER BY;
SELECT id, FROM pd.us_mix;
-- ambiguity, set operations, positions
SELECT id FROM pd.sh_hot x JOIN pd.sh_cold y ON x.id = y.id;
SELECT n FROM pd.us_hot x, pd.us_cold y WHERE x.id = 1;
SELECT 1 UNION SELECT 1, 2;
SELECT id FROM pd.sh_hot UNION ALL SELECT id, n FROM pd.sh_cold;
SELECT id FROM pd.sh_hot ORDER BY 5;
SELECT grp, count(*) FROM pd.us_mix GROUP BY 3;
-- aggregates and windows where they are not allowed
SELECT id FROM pd.sh_hot WHERE count(*) > 1;
SELECT sum(count(*)) FROM pd.sh_cold;
SELECT id FROM pd.us_hot WHERE row_number() OVER () > 1;
SELECT count(*) FROM pd.sh_mix GROUP BY count(*);
-- subqueries with the wrong shape
SELECT (SELECT 1, 2);
SELECT id, (SELECT id, n FROM pd.sh_cold y WHERE y.id = x.id) FROM pd.sh_hot x;
SELECT id FROM pd.sh_hot WHERE id IN (SELECT id, n FROM pd.sh_cold);
-- operand types
SELECT name + 1 FROM pd.sh_hot;
SELECT id FROM pd.us_cold WHERE n = 'abc';
SELECT id FROM pd.sh_mix WHERE flag = 'maybe';
SELECT id FROM pd.st_items WHERE ts < 'not a time';
SELECT id FROM pd.sh_cold WHERE d = '2020-13-45';
SELECT 'abc'::boolean;
SELECT '2020-02-30'::date;
SELECT 2147483648::int;
-- LIMIT and OFFSET
SELECT id FROM pd.sh_hot ORDER BY id LIMIT -1;
SELECT id FROM pd.sh_hot ORDER BY id OFFSET -1;
-- date/time text converted at run time
SELECT ('2020-02-' || '30')::date;
SELECT ('2020-13-' || '01')::timestamp;
SELECT ('not ' || 'a date')::date;
SELECT id, (name || '-01-01')::date FROM pd.sh_hot WHERE id = 1;
SELECT '2020-02-03 25:00'::timestamp;
