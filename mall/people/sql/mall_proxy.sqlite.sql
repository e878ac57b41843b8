-- Mirrors mall.people.proxies (the table mall.tables.Proxy describes): a resident's grant to a
-- family member or neighbour of the same community to collect and pay for them (代领), until it
-- ends; and, on an order, the proxy who paid or collected it (mall_order.proxy). SQLite.
CREATE TABLE mall_proxy (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "community" INTEGER NOT NULL REFERENCES "mall_community" ("id") ON DELETE RESTRICT,
    "resident" INTEGER NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "proxy" INTEGER NOT NULL REFERENCES "mall_resident" ("id") ON DELETE RESTRICT,
    "granted_at" TIMESTAMPTZ NOT NULL,
    "granted_by" INTEGER NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    "ended_at" TIMESTAMPTZ NULL,
    "ended_by" INTEGER NULL REFERENCES "mall_user" ("id") ON DELETE RESTRICT,
    CHECK ("resident" <> "proxy")
);
-- statement
CREATE UNIQUE INDEX mall_proxy_live ON mall_proxy (resident, proxy) WHERE ended_at IS NULL;
-- statement
CREATE INDEX mall_proxy_proxy ON mall_proxy (proxy);
-- statement
ALTER TABLE mall_order ADD COLUMN proxy INTEGER NULL REFERENCES mall_resident (id) ON DELETE RESTRICT;
-- statement
CREATE INDEX mall_order_proxy ON mall_order (proxy, created_at) WHERE proxy IS NOT NULL;
