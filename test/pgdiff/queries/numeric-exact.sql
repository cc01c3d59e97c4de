-- Exact NUMERIC results with PostgreSQL's display scale
-- (parse/rewrite_exact.go, pgfn/exact.go): arithmetic on DECIMAL(10,2)
-- columns and literals, division's select_div_scale, avg/sum/min/max and
-- the variance family over integers and decimals, casts to numeric(p,s),
-- and numeric results ordered, grouped and filtered on (the double keeps
-- doing that; the exact twin is only printed).
SELECT id, price * 3, price + 0.005, price - n, price * n FROM pd.sh_mix ORDER BY id;
SELECT id, price / 3, price / 0.7, n / 3.0, price % 3 FROM pd.us_cold WHERE price IS NOT NULL AND n IS NOT NULL ORDER BY id;
SELECT id, (price + 1) * 2, -(price - 1), price::numeric(10,3), price::numeric(6,1) FROM pd.st_items WHERE price IS NOT NULL ORDER BY id;
SELECT id, price * 2 AS p2 FROM pd.sh_cold WHERE price IS NOT NULL ORDER BY p2 DESC, id LIMIT 5;
SELECT id, price / 4 FROM pd.us_mix WHERE price IS NOT NULL ORDER BY 2, id;
SELECT grp, sum(price), avg(price), min(price * 2), max(price + n) FROM pd.sh_hot GROUP BY grp ORDER BY grp;
SELECT grp, avg(n), sum(big), avg(big) FROM pd.us_hot GROUP BY grp ORDER BY grp;
SELECT grp, stddev(price), variance(price), stddev_pop(n), var_pop(n) FROM pd.sh_cold GROUP BY grp ORDER BY grp;
SELECT grp, avg(price) FROM pd.sh_mix GROUP BY grp HAVING avg(price) > 10 ORDER BY avg(price) DESC, grp;
SELECT grp, sum(price) AS s FROM pd.us_cold GROUP BY grp ORDER BY s, grp;
SELECT avg(n * 1.5), sum(price * n), avg(price / 2) FROM pd.sh_mix;
SELECT avg(n), avg(price), sum(price) FROM pd.st_items WHERE n > 3;
SELECT avg(n) FROM pd.us_mix WHERE grp = 'a';
SELECT count(*), avg(n) FROM pd.sh_cold WHERE n BETWEEN 2 AND 20;
SELECT id FROM pd.sh_hot WHERE price * 2 > 30 ORDER BY id;
SELECT id FROM pd.us_cold WHERE price / 3 = 6.33 ORDER BY id;
SELECT id, price FROM pd.sh_mix WHERE price = 18.990 ORDER BY id;
SELECT x.id, x.price + y.price FROM pd.sh_hot x JOIN pd.us_cold y ON x.id = y.id WHERE x.price IS NOT NULL ORDER BY x.id;
SELECT 1 / 7.0, 22 / 7.0, 100.0 / 3, 2 / 3.000000, 1000000 / 3.0, 0.001 / 3;
SELECT 1.10 + 2.205, 3.0 * 2.50, 10.00 - 0.5, 7 % 2.5, -7.5 % 2;
SELECT 12345678901.23 * 100, 0.000001 * 0.000001, 99999.99 / 0.01;
SELECT 1.5::numeric(4,1) + 2, 2::numeric / 3, '3.14159'::numeric(5,3) * 2;
SELECT avg(x), sum(x), min(x), max(x) FROM (VALUES (1), (2), (3), (4)) v(x);
SELECT avg(x) FROM (SELECT 10 AS x UNION ALL SELECT 20 UNION ALL SELECT 40) s;
SELECT stddev(x), var_samp(x) FROM (SELECT 2 AS x UNION ALL SELECT 4 UNION ALL SELECT 4 UNION ALL SELECT 5) s;
SELECT id, round(price, 1), trunc(price * 1.5, 1), round(price / 3, 3), round(price) FROM pd.sh_mix WHERE price IS NOT NULL ORDER BY id;
SELECT id, EXTRACT(epoch FROM ts), EXTRACT(second FROM ts), EXTRACT(milliseconds FROM ts), EXTRACT(julian FROM ts) FROM pd.us_cold WHERE ts IS NOT NULL ORDER BY id;
SELECT grp, round(avg(price), 2), round(avg(n), 4) FROM pd.st_items GROUP BY grp ORDER BY grp;
