-- The shop's orders: what the backup must keep and the restore drill must bring back, row for row.
CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, since date NOT NULL);
INSERT INTO customers SELECT g, 'customer' || g || '@example.test', date '2024-01-01' + (g % 700) FROM generate_series(1, 1000) g;
CREATE TABLE orders (id integer PRIMARY KEY, customer integer NOT NULL REFERENCES customers, sku text NOT NULL, qty integer NOT NULL, total numeric(10,2) NOT NULL, placed timestamptz NOT NULL);
INSERT INTO orders SELECT g, 1 + g % 1000, 'SKU-' || (g % 97), 1 + g % 5, (1 + g % 5) * 9.99, timestamptz '2025-01-01 00:00:00+00' + g * interval '7 minutes' FROM generate_series(1, 10000) g;
CREATE INDEX orders_customer ON orders (customer);
