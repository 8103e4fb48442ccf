-- Automatic (proxy) bidding and Buy It Now: a bid records what kind it is and what its request
-- asked for; an automatic bid, which the system places for a bidder, has no idempotency key.

-- CreateEnum
CREATE TYPE "BidKind" AS ENUM ('PLACED', 'AUTOMATIC', 'BUY_NOW');

-- AlterTable
ALTER TABLE "bids" ADD COLUMN     "kind" "BidKind" NOT NULL DEFAULT 'PLACED',
ADD COLUMN     "requested_amount" INTEGER,
ALTER COLUMN "idempotency_key" DROP NOT NULL;
