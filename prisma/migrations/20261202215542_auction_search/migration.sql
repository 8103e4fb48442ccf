-- Full-text search over title and description, and an index for each listing order within a state.
--
-- search_vector is computed by Postgres from the row (GENERATED ... STORED): every INSERT and UPDATE
-- keeps it current, and no writer names it. Prisma cannot express a generated column, so the schema
-- declares it as Unsupported("tsvector")? and this script is edited by hand.
--
-- The 'simple' configuration, not 'english': it only lowercases, keeping every word as written.
-- Listings are full of names, models and other languages ("Leica M6", "Rolex Submariner", "Osaka")
-- that an English stemmer and stop-word list would mangle or drop (a search for "the who" would
-- match nothing), while the contract promises words matched case-insensitively. Plurals are served
-- by prefix matching of the last word the user typed instead of stemming.
-- Title and description are converted apart and concatenated, so no phrase spans the two.

-- DropIndex: (state, ends_at, id) below serves every query this one did.
DROP INDEX "auctions_state_ends_at_idx";

-- AlterTable
ALTER TABLE "auctions" ADD COLUMN "search_vector" tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, "title") || to_tsvector('simple'::regconfig, "description")) STORED;

-- CreateIndex
CREATE INDEX "auctions_state_ends_at_id_idx" ON "auctions"("state", "ends_at", "id");

-- CreateIndex
CREATE INDEX "auctions_state_created_at_id_idx" ON "auctions"("state", "created_at", "id");

-- CreateIndex
CREATE INDEX "auctions_state_current_price_id_idx" ON "auctions"("state", "current_price", "id");

-- CreateIndex
CREATE INDEX "auctions_search_vector_idx" ON "auctions" USING GIN ("search_vector");
