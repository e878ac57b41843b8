-- Mirrors mall.counter.reservations: one reservation per resident key; the expiry sweep. Both engines.
CREATE UNIQUE INDEX mall_reservation_resident_key ON mall_reservation (resident, idempotency_key);
-- statement
CREATE INDEX mall_reservation_status_expires ON mall_reservation (status, expires_at);
