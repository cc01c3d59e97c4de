-- LATERAL subqueries (parse/rewrite_lateral.go) and column lists on a
-- table's alias (parse/rewrite_tablealias.go). The one-row LATERAL shapes
-- become correlated scalar subqueries; the others are refused (allow-list).
SELECT x.id, l.c, l.s FROM pd.sh_mix x CROSS JOIN LATERAL (SELECT count(*) AS c, sum(y.n) AS s FROM pd.us_cold y WHERE y.n < x.n) AS l ORDER BY x.id;
SELECT x.id, l.c FROM pd.us_hot x JOIN LATERAL (SELECT count(y.score) AS c FROM pd.sh_cold y WHERE y.grp = x.grp) l ON true WHERE x.id < 20 ORDER BY x.id;
SELECT x.id, l.m FROM pd.st_items x LEFT JOIN LATERAL (SELECT min(y.price) AS m FROM pd.us_mix y WHERE y.grp = x.grp AND y.id <> x.id) l ON true ORDER BY l.m DESC, x.id;
SELECT x.id, l.m + 1, l.a FROM pd.sh_hot x, LATERAL (SELECT max(y.big) AS m, avg(y.n) AS a FROM pd.sh_mix y WHERE y.id <= x.id) l WHERE l.m IS NOT NULL ORDER BY x.id;
SELECT x.k, l.total FROM pd.dim x, LATERAL (SELECT sum(y.n) AS total FROM pd.us_mix y WHERE y.grp = x.k) l ORDER BY x.k;
SELECT x.id, l.m FROM pd.us_cold x LEFT JOIN LATERAL (SELECT y.name AS m FROM pd.sh_hot y WHERE y.n = x.n AND y.id <> x.id ORDER BY y.id DESC LIMIT 1) l ON true ORDER BY x.id;
SELECT x.id, l.m FROM pd.sh_mix x LEFT OUTER JOIN LATERAL (SELECT y.score AS m FROM pd.st_items y WHERE y.grp = x.grp ORDER BY y.score DESC, y.id LIMIT 1) AS l ON true ORDER BY x.id;
SELECT count(*), count(s.m) FROM (SELECT x.id, l.m FROM pd.us_mix x, LATERAL (SELECT max(y.id) AS m FROM pd.us_hot y WHERE y.n > x.n) l) s;
SELECT x.grp, max(l.m) FROM pd.sh_cold x, LATERAL (SELECT count(*) AS m FROM pd.sh_hot y WHERE y.grp = x.grp) l GROUP BY x.grp ORDER BY x.grp;
SELECT x.id, l.m FROM pd.sh_hot x, LATERAL (SELECT y.id AS m FROM pd.sh_hot y WHERE y.n = x.n) l ORDER BY x.id, l.m;
SELECT x.id, l.m FROM pd.sh_hot x JOIN LATERAL (SELECT y.id AS m FROM pd.sh_hot y WHERE y.id > x.id ORDER BY y.id LIMIT 1) l ON true ORDER BY x.id;
SELECT x.id, l.m FROM pd.sh_hot x, LATERAL (SELECT max(y.id) AS m FROM pd.sh_hot y WHERE y.n = x.n GROUP BY y.grp) l ORDER BY x.id, l.m;
SELECT u.a, u.b, u.n FROM pd.us_mix AS u(a, b) WHERE u.a BETWEEN 3 AND 9 ORDER BY u.a;
SELECT count(*), sum(q) FROM pd.sh_cold s(i, g, q) WHERE q > 2;
SELECT a.i, b.i FROM pd.sh_hot a(i, g) JOIN pd.st_items AS b(i, g) ON a.g = b.g AND a.i = b.i ORDER BY a.i;
SELECT * FROM pd.dim t(a) ORDER BY a;
SELECT g, count(*) FROM pd.us_cold AS u(i, g) GROUP BY g ORDER BY g;
SELECT x.id, (SELECT min(y.price) FROM pd.us_mix y WHERE y.grp = x.grp AND y.id <> x.id) AS m FROM pd.st_items x ORDER BY m DESC, x.id;
SELECT x.id, l.m FROM pd.us_mix x, LATERAL (SELECT y.name AS m FROM pd.sh_cold y WHERE y.n = x.n AND y.id <> x.id ORDER BY y.id LIMIT 1) l WHERE x.id > 3 OR x.grp IS NULL ORDER BY x.id;
SELECT l.m, count(*) FROM pd.st_items x CROSS JOIN LATERAL (SELECT y.grp AS m FROM pd.us_hot y WHERE y.id > x.id + 20 ORDER BY y.id DESC LIMIT 1) l GROUP BY l.m ORDER BY l.m;
SELECT x.id, l.m, z.k FROM pd.sh_mix x JOIN LATERAL (SELECT y.id AS m FROM pd.sh_hot y WHERE y.n > x.n ORDER BY y.n, y.id LIMIT 1) l ON true LEFT JOIN pd.dim z ON z.k = x.grp ORDER BY x.id;
