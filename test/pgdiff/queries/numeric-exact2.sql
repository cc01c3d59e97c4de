-- Exact NUMERIC, second part (parse/rewrite_exact_subquery.go,
-- parse/rewrite_exact_math.go, pgfn/exact_math.go): scalar subqueries
-- returning a numeric, and the result scale of sqrt/ln/log/exp/power.
SELECT (SELECT sum(price) FROM pd.sh_hot) + 0.1;
SELECT (SELECT sum(price) FROM pd.us_mix) * 2, (SELECT avg(price) FROM pd.sh_cold);
SELECT (SELECT max(price) FROM pd.st_items) - (SELECT min(price) FROM pd.st_items);
SELECT (SELECT avg(n) FROM pd.sh_mix WHERE n IS NOT NULL) / 3;
SELECT (SELECT max(n) FROM pd.sh_hot) + 0.5, (SELECT count(*) FROM pd.sh_hot) * 1.5;
SELECT (SELECT 1.50) + 1, (SELECT 2.5 * 2) AS x;
SELECT x.id, (SELECT sum(y.price) FROM pd.sh_cold y WHERE y.grp = x.grp) + 0.01 AS s FROM pd.sh_hot x ORDER BY x.id;
SELECT x.id, (SELECT avg(y.price) FROM pd.us_cold y WHERE y.n <= x.n) AS a FROM pd.us_hot x WHERE x.n IS NOT NULL ORDER BY x.id;
SELECT x.id, l.s * 2 FROM pd.sh_mix x, LATERAL (SELECT sum(y.price) AS s FROM pd.sh_mix y WHERE y.id < x.id) l ORDER BY x.id;
SELECT x.id, (SELECT y.price FROM pd.sh_hot y WHERE y.id = x.id LIMIT 1) + 0 FROM pd.sh_hot x ORDER BY x.id;
SELECT count(*) * 1.5, count(price) / 4.0, length('abc') + 0.25 FROM pd.sh_hot;
SELECT sqrt(2.0), sqrt(0.0), sqrt(1e-10), sqrt(12345678.9), sqrt(100.00), sqrt(0.5);
SELECT ln(2.0), ln(1.0001), ln(0.5), ln(10000.0), ln(1.0), ln(123456789.123);
SELECT log(10.0), log(2.0), log(1000.0), log(0.001), log10(5.5), log(2, 1024), log(3, 10.5), log(0.5, 8);
SELECT exp(1.0), exp(0.0), exp(-1.5), exp(10.0), exp(100.0), exp(0.00001);
SELECT power(2, 0.5), power(2.0, 10), power(1.5, 3), power(-2.0, 3), power(10.0, -2), power(2.5, 0), pow(4.0, 0.25), power(0.0, 2.5);
SELECT sqrt(price), ln(price), exp(price / 10), power(price, 2), log(price) FROM pd.sh_mix WHERE price IS NOT NULL ORDER BY id;
SELECT sqrt(2), ln(2), exp(1), power(2, 10), log(100), sqrt(score) FROM pd.sh_hot WHERE id = 1;
SELECT sqrt(2.25) + 1, power(9, 0.5) * 2, log(2, 8) - 1;
SELECT sqrt(-1.0);
SELECT ln(0.0);
SELECT ln(-2.5);
SELECT log(1, 10.0);
SELECT log(0, 10.0);
SELECT power(0.0, -1);
SELECT power(-8.0, 0.5);
SELECT exp(100000.0);
SELECT 2.0 ^ 10, 9 ^ 0.5, 2 ^ 3;
-- Aggregates over a derived table's or CTE's literal numeric column.
SELECT sum(x), avg(x), min(x), max(x) FROM (SELECT 0.1 AS x UNION ALL SELECT 0.2 AS x UNION ALL SELECT 0.25 AS x) s;
WITH s AS (SELECT 1.50 AS x UNION ALL SELECT 2 UNION ALL SELECT NULL UNION ALL SELECT -0.125) SELECT sum(x), avg(x), variance(x), stddev_pop(s.x) FROM s;
SELECT avg(x) + 1, sum(x) * 2 FROM (SELECT 1e-3 AS x UNION SELECT 2.5e1 AS x) s;
SELECT count(*), sum(v) FROM (SELECT 0.1 AS v UNION ALL SELECT 0.2 AS v) a, (SELECT 1 AS w UNION ALL SELECT 2 AS w) b;
SELECT s.grp, avg(s.x) FROM (SELECT grp, 0.5 AS x FROM pd.sh_hot UNION ALL SELECT grp, 0.25 AS x FROM pd.sh_cold) s GROUP BY s.grp ORDER BY s.grp;
SELECT avg(x) FROM (SELECT price AS x FROM pd.sh_hot UNION ALL SELECT 0.5 AS x) s;
SELECT grp, avg(price) + 1, sum(price) * 2, avg(n) - 0.5 FROM pd.sh_mix GROUP BY grp ORDER BY grp;
SELECT grp, avg(n) FROM pd.us_mix GROUP BY grp HAVING avg(n) > 5 ORDER BY avg(n) * 2, grp;
-- Scalar subqueries that may return several rows (checked for one row).
SELECT (SELECT price FROM pd.sh_hot WHERE id = 3), (SELECT price * 2 FROM pd.us_cold WHERE id = 4) + 0.5;
SELECT x.id, (SELECT y.price FROM pd.sh_mix y WHERE y.id = x.id) AS p FROM pd.sh_hot x ORDER BY x.id;
SELECT (SELECT price FROM pd.sh_hot WHERE grp = 'a') + 1;
SELECT (SELECT price FROM pd.sh_hot WHERE id = 1000) + 1;
SELECT id FROM pd.sh_hot WHERE price IN (SELECT price FROM pd.sh_cold WHERE id < 5) ORDER BY id;
