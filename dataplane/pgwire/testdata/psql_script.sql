\set ON_ERROR_STOP 0
CREATE NAMESPACE shop;
CREATE TABLE shop.products (sku TEXT PRIMARY KEY, price DECIMAL(10,2) NOT NULL, qty INT DEFAULT 0, added TIMESTAMP);
INSERT INTO shop.products (sku, price, qty, added) VALUES ('a', 1.50, 3, TIMESTAMP '2024-01-02 03:04:05'), ('b', 2.25, 0, NULL);
SELECT sku, price, qty, added FROM shop.products ORDER BY sku;
\dt shop.*
\d shop.products
\d+ shop.products
\dn
\l
SET search_path TO shop;
\dt
\d
SELECT count(*) AS n FROM products;
SELECT * FROM nope;
INSERT INTO products (sku, price) VALUES ('a', 9);
\echo done
