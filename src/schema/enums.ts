import { registerEnumType } from 'type-graphql';

export enum AuctionStatus {
  SCHEDULED = 'SCHEDULED',
  ACTIVE = 'ACTIVE',
  ENDED = 'ENDED',
  CANCELLED = 'CANCELLED',
}

export enum ReserveStatus {
  NO_RESERVE = 'NO_RESERVE',
  NOT_MET = 'NOT_MET',
  MET = 'MET',
}

export enum AuctionOrder {
  ENDING_SOON = 'ENDING_SOON',
  NEWLY_LISTED = 'NEWLY_LISTED',
  PRICE_LOW_TO_HIGH = 'PRICE_LOW_TO_HIGH',
  PRICE_HIGH_TO_LOW = 'PRICE_HIGH_TO_LOW',
}

export enum BidStatus {
  LEADING = 'LEADING',
  OUTBID = 'OUTBID',
  WON = 'WON',
  LOST = 'LOST',
  CANCELLED = 'CANCELLED',
}

export enum BidKind {
  PLACED = 'PLACED',
  AUTOMATIC = 'AUTOMATIC',
  BUY_NOW = 'BUY_NOW',
}

export enum PaymentStatus {
  REQUIRES_PAYMENT = 'REQUIRES_PAYMENT',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  REFUNDED = 'REFUNDED',
  NOT_CONFIGURED = 'NOT_CONFIGURED',
}

registerEnumType(AuctionStatus, { name: 'AuctionStatus' });
registerEnumType(ReserveStatus, { name: 'ReserveStatus' });
registerEnumType(AuctionOrder, { name: 'AuctionOrder' });
registerEnumType(BidStatus, {
  name: 'BidStatus',
  valuesConfig: {
    LEADING: { description: 'The highest bid of a running auction.' },
    OUTBID: { description: 'A running auction where a higher bid exists.' },
    WON: { description: 'The bid that won an ended auction.' },
    LOST: { description: 'Any other bid of an ended auction.' },
    CANCELLED: { description: 'The auction was cancelled.' },
  },
});
registerEnumType(BidKind, {
  name: 'BidKind',
  description: 'How a bid came to be.',
  valuesConfig: {
    PLACED: { description: "Placed by the bidder (with maxAmount, the opening bid of an automatic bid)." },
    AUTOMATIC: { description: "Placed by the server for the bidder, one increment at a time, up to their maximum." },
    BUY_NOW: { description: 'A Buy It Now purchase: the auction ended with it.' },
  },
});
registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  valuesConfig: {
    REQUIRES_PAYMENT: { description: 'Waiting for the winner to pay.' },
    NOT_CONFIGURED: { description: 'No payment provider is configured on this server.' },
  },
});
