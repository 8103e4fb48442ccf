-- Nothing wrote notifications before this migration, so event_at needs no default for old rows.
-- AlterEnum
ALTER TYPE "NotificationStatus" ADD VALUE 'PENDING';

-- DropIndex
DROP INDEX "notifications_user_id_auction_id_kind_created_at_idx";

-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "event_at" TIMESTAMPTZ(3) NOT NULL;

-- CreateIndex
CREATE INDEX "notifications_user_id_auction_id_kind_event_at_idx" ON "notifications"("user_id", "auction_id", "kind", "event_at");
