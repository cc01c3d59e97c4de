-- GROUPING(...) with ROLLUP, CUBE and GROUPING SETS (parse/rewrite_grouping.go):
-- a constant per grouping set, in the select list and HAVING.
SELECT grp, n, grouping(grp), grouping(n), grouping(grp, n), count(*) FROM pd.sh_hot GROUP BY ROLLUP (grp, n) ORDER BY grp, n, 3, 4;
SELECT grp, flag, grouping(grp, flag) AS g, count(*) FROM pd.us_mix GROUP BY CUBE (grp, flag) ORDER BY g, grp, flag;
SELECT grp, flag, grouping(flag, grp) AS g, sum(n) FROM pd.sh_cold GROUP BY GROUPING SETS ((grp), (flag), ()) ORDER BY g, grp, flag;
SELECT CASE WHEN grouping(grp) = 1 THEN 'all' ELSE grp END AS label, count(*) AS c FROM pd.st_items GROUP BY ROLLUP (grp) ORDER BY label, c;
SELECT grp, count(*) AS c FROM pd.sh_mix GROUP BY ROLLUP (grp) HAVING grouping(grp) = 0 ORDER BY grp;
SELECT grp, count(*) AS c FROM pd.us_hot GROUP BY ROLLUP (grp) HAVING grouping(grp) = 1 OR count(*) > 8 ORDER BY grp;
SELECT grp, grouping(name) FROM pd.sh_hot GROUP BY ROLLUP (grp);
