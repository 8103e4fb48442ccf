-- The auction's end: the end the seller set (soft close extends endsAt up to 24 hours past it), when
-- it ended, and a closing worker's lease. Payments gain their deadline, the runner-up, refunds and
-- the payments job's retry schedule. Lifecycle notices (won, sold, unsold, cancelled) name the
-- auction event they are about rather than a bid.

-- AlterTable
ALTER TABLE "auctions" ADD COLUMN     "close_lease_until" TIMESTAMPTZ(3),
ADD COLUMN     "ended_at" TIMESTAMPTZ(3),
ADD COLUMN     "scheduled_ends_at" TIMESTAMPTZ(3);
UPDATE "auctions" SET "scheduled_ends_at" = "ends_at";
ALTER TABLE "auctions" ALTER COLUMN "scheduled_ends_at" SET NOT NULL;

-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "event_seq" INTEGER,
ALTER COLUMN "bid_id" DROP NOT NULL;

-- AlterTable
ALTER TABLE "payments" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "due_at" TIMESTAMPTZ(3),
ADD COLUMN     "failure_reason" TEXT,
ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3),
ADD COLUMN     "provider_refund_id" TEXT,
ADD COLUMN     "refund_requested_at" TIMESTAMPTZ(3),
ADD COLUMN     "runner_up_amount" INTEGER,
ADD COLUMN     "runner_up_id" UUID;
UPDATE "payments" SET "due_at" = "created_at" + interval '4 days';
ALTER TABLE "payments" ALTER COLUMN "due_at" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "notifications_auction_id_event_seq_user_id_kind_key" ON "notifications"("auction_id", "event_seq", "user_id", "kind");

-- CreateIndex
CREATE INDEX "payments_status_next_attempt_at_idx" ON "payments"("status", "next_attempt_at");
