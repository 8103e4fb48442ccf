-- CreateEnum
CREATE TYPE "AuctionState" AS ENUM ('OPEN', 'ENDED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "PaymentState" AS ENUM ('REQUIRES_PAYMENT', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'NOT_CONFIGURED');

-- CreateEnum
CREATE TYPE "NotificationStatus" AS ENUM ('SENT', 'SUPPRESSED', 'FAILED', 'SKIPPED_NO_PROVIDER', 'DELIVERED', 'UNDELIVERED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "phone" TEXT,
    "sms_opt_in" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auctions" (
    "id" UUID NOT NULL,
    "seller_id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "starting_price" INTEGER NOT NULL,
    "reserve_price" INTEGER,
    "buy_now_price" INTEGER,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "soft_close_seconds" INTEGER NOT NULL DEFAULT 0,
    "state" "AuctionState" NOT NULL DEFAULT 'OPEN',
    "cancelled_at" TIMESTAMPTZ(3),
    "cancel_reason" TEXT,
    "current_price" INTEGER NOT NULL,
    "bid_count" INTEGER NOT NULL DEFAULT 0,
    "last_seq" INTEGER NOT NULL DEFAULT 0,
    "leading_bid_id" UUID,
    "leader_id" UUID,
    "winner_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "auctions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bids" (
    "id" UUID NOT NULL,
    "auction_id" UUID NOT NULL,
    "bidder_id" UUID NOT NULL,
    "amount" INTEGER NOT NULL,
    "max_amount" INTEGER,
    "seq" INTEGER NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "placed_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bids_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auction_events" (
    "auction_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "auction_events_pkey" PRIMARY KEY ("auction_id","seq")
);

-- CreateTable
CREATE TABLE "payments" (
    "id" UUID NOT NULL,
    "auction_id" UUID NOT NULL,
    "payer_id" UUID NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" "PaymentState" NOT NULL,
    "provider_session_id" TEXT,
    "provider_payment_intent" TEXT,
    "checkout_url" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notifications" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "auction_id" UUID NOT NULL,
    "bid_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "status" "NotificationStatus" NOT NULL,
    "provider_message_id" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "auctions_ends_at_id_idx" ON "auctions"("ends_at", "id");

-- CreateIndex
CREATE INDEX "auctions_created_at_id_idx" ON "auctions"("created_at", "id");

-- CreateIndex
CREATE INDEX "auctions_current_price_id_idx" ON "auctions"("current_price", "id");

-- CreateIndex
CREATE INDEX "auctions_seller_id_ends_at_idx" ON "auctions"("seller_id", "ends_at");

-- CreateIndex
CREATE INDEX "auctions_state_ends_at_idx" ON "auctions"("state", "ends_at");

-- CreateIndex
CREATE INDEX "bids_auction_id_seq_idx" ON "bids"("auction_id", "seq" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "bids_auction_id_seq_key" ON "bids"("auction_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "bids_bidder_id_idempotency_key_key" ON "bids"("bidder_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "payments_auction_id_key" ON "payments"("auction_id");

-- CreateIndex
CREATE UNIQUE INDEX "payments_provider_session_id_key" ON "payments"("provider_session_id");

-- CreateIndex
CREATE UNIQUE INDEX "notifications_provider_message_id_key" ON "notifications"("provider_message_id");

-- CreateIndex
CREATE INDEX "notifications_user_id_auction_id_kind_created_at_idx" ON "notifications"("user_id", "auction_id", "kind", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "notifications_bid_id_user_id_kind_key" ON "notifications"("bid_id", "user_id", "kind");

-- AddForeignKey
ALTER TABLE "auctions" ADD CONSTRAINT "auctions_seller_id_fkey" FOREIGN KEY ("seller_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auctions" ADD CONSTRAINT "auctions_leader_id_fkey" FOREIGN KEY ("leader_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auctions" ADD CONSTRAINT "auctions_winner_id_fkey" FOREIGN KEY ("winner_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bids" ADD CONSTRAINT "bids_auction_id_fkey" FOREIGN KEY ("auction_id") REFERENCES "auctions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bids" ADD CONSTRAINT "bids_bidder_id_fkey" FOREIGN KEY ("bidder_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auction_events" ADD CONSTRAINT "auction_events_auction_id_fkey" FOREIGN KEY ("auction_id") REFERENCES "auctions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_auction_id_fkey" FOREIGN KEY ("auction_id") REFERENCES "auctions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_payer_id_fkey" FOREIGN KEY ("payer_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
