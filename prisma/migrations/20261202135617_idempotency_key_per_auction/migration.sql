-- An idempotency key is scoped per (auction, bidder), as the price book scopes it: a key reused on
-- another auction is a bid of its own there. The old (bidder, key) constraint was stricter, so no
-- existing rows can violate the new one.

-- DropIndex
DROP INDEX "bids_bidder_id_idempotency_key_key";

-- CreateIndex
CREATE UNIQUE INDEX "bids_auction_id_bidder_id_idempotency_key_key" ON "bids"("auction_id", "bidder_id", "idempotency_key");
