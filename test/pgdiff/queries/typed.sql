-- Typed columns in operators and results (parse/rewrite_types.go,
-- rewrite_checks.go, rewrite_setops.go): float8 with numeric, int4
-- overflow, computed booleans/timestamps, temporal comparisons, the
-- errors PostgreSQL raises at plan time, quantified comparisons, bag set
-- operations and derived-table column lists.
SELECT id FROM pd.sh_mix WHERE score + 0.2 > 0.3 ORDER BY id;
SELECT id, score * 2 + 0.1 FROM pd.us_cold WHERE score IS NOT NULL ORDER BY id;
SELECT id, price + score FROM pd.st_items WHERE price IS NOT NULL AND score IS NOT NULL ORDER BY id;
SELECT id, n * 100000000 FROM pd.sh_hot WHERE n IS NOT NULL ORDER BY id;
SELECT id, big + 1 FROM pd.us_mix WHERE big IS NOT NULL AND big < 0 ORDER BY id;
SELECT id, n + 2147483647 FROM pd.sh_cold WHERE n > 0 ORDER BY id;
SELECT id, n > 5, flag AND n > 0, name LIKE 'a%' FROM pd.sh_mix ORDER BY id;
SELECT id, ts + INTERVAL '1 day', d + 1 FROM pd.us_hot ORDER BY id;
SELECT id, ts::date, ts::text, flag::text FROM pd.sh_cold ORDER BY id;
SELECT min(ts), max(d), bool_or(flag) FROM pd.sh_mix WHERE id > 10;
SELECT id FROM pd.st_items WHERE ts::date >= '2020-01-01' ORDER BY id;
SELECT id FROM pd.sh_hot WHERE d < ts ORDER BY id;
SELECT id FROM pd.us_mix WHERE ts::date = d ORDER BY id;
SELECT id FROM pd.sh_hot WHERE name;
SELECT id FROM pd.us_cold WHERE price;
SELECT grp, count(*) FROM pd.sh_mix GROUP BY grp HAVING count(*);
SELECT grp, name FROM pd.sh_cold GROUP BY grp;
SELECT id, grp, count(*) FROM pd.sh_hot GROUP BY id ORDER BY id;
SELECT x.id, (SELECT y.n FROM pd.sh_mix y WHERE y.id = x.id) FROM pd.us_mix x ORDER BY x.id;
SELECT x.id, (SELECT y.id FROM pd.sh_mix y WHERE y.n = x.n) FROM pd.sh_hot x WHERE x.n IS NOT NULL ORDER BY x.id;
SELECT (SELECT n FROM pd.sh_cold WHERE id = 1 UNION ALL SELECT n FROM pd.sh_cold WHERE id = 2);
SELECT id, n >= ALL (SELECT n FROM pd.sh_cold WHERE n IS NOT NULL) FROM pd.us_hot ORDER BY id;
SELECT id, n < ANY (VALUES (NULL::int), (5)) FROM pd.sh_mix ORDER BY id;
SELECT id, n = ALL (SELECT 7) FROM pd.st_items ORDER BY id;
SELECT id, grp <> ANY (SELECT grp FROM pd.sh_hot WHERE id < 4) FROM pd.us_cold ORDER BY id;
SELECT grp FROM pd.sh_mix INTERSECT ALL SELECT grp FROM pd.us_hot WHERE n > 0 ORDER BY 1;
SELECT grp, flag FROM pd.sh_hot EXCEPT ALL SELECT grp, flag FROM pd.st_items WHERE id > 20 ORDER BY 1, 2;
SELECT n AS v FROM pd.sh_cold EXCEPT ALL SELECT weight FROM pd.dim ORDER BY v;
(SELECT id FROM pd.us_mix ORDER BY id DESC LIMIT 3) EXCEPT (SELECT id FROM pd.sh_mix ORDER BY id LIMIT 28) ORDER BY 1;
SELECT v.x + 1, v.y FROM (VALUES (1, 'a'), (NULL, 'b')) AS v(x, y) ORDER BY v.y;
SELECT s.a, s.b FROM (SELECT grp, count(*) FROM pd.us_mix GROUP BY grp) AS s(a, b) ORDER BY s.a;
SELECT DISTINCT ON (grp) grp, name AS nm, id FROM pd.us_mix ORDER BY grp DESC, n, id LIMIT 3;
SELECT DISTINCT ON (flag, grp) flag, grp, price FROM pd.st_items WHERE id > 3 ORDER BY flag, grp, price DESC, id;
SELECT count(*) FROM (SELECT DISTINCT ON (d) d, id FROM pd.sh_cold ORDER BY d, id) s;
