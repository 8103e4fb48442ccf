import { EXTENSION_CAP_MS } from '../../domain/auction-rules.js';

// The price book's Lua scripts. They live in a TypeScript module rather than .lua files so that the
// compiled build (dist/) carries them without a copy step.
//
// Every script touches only the two keys of one auction, which share the hash tag {<auctionId>}:
//   KEYS[1] the auction HASH (BookEntry scalars; a null field is an absent field; times in epoch ms)
//   KEYS[2] the idempotency HASH: bidderId .. '\n' .. idempotencyKey -> accepted BidPlacedMessage JSON

// Redis's Lua has no os.date: civil-from-days (H. Hinnant) gives the proleptic Gregorian date.
const ISO_LUA = `
local function iso(ms)
  local secs = math.floor(ms / 1000)
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then year = year + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms - secs * 1000)
end
`;

const NOW_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/** ARGV: auctionId, bidId, bidderId, amount, maxAmount ('' for none), idempotencyKey, retentionMs, pauseNewBids ('1' or '0'), increment table. */
export const PLACE_BID_LUA = `
local auction, keys = KEYS[1], KEYS[2]
local auctionId, bidId, bidderId = ARGV[1], ARGV[2], ARGV[3]
local amount = tonumber(ARGV[4])
local maxAmount = cjson.null
if ARGV[5] ~= '' then maxAmount = tonumber(ARGV[5]) end
local idempotencyKey, retentionMs, pauseNewBids = ARGV[6], tonumber(ARGV[7]), ARGV[8] == '1'
local EXTENSION_CAP_MS = ${EXTENSION_CAP_MS}

-- The increment table comes from incrementTableArgs(): [upTo, increment]... then the top increment.
local function increment(price)
  for i = 9, #ARGV - 1, 2 do
    if price < tonumber(ARGV[i]) then return tonumber(ARGV[i + 1]) end
  end
  return tonumber(ARGV[#ARGV])
end

${ISO_LUA}
if redis.call('EXISTS', auction) == 0 then return {'MISSING'} end

-- A retried key answers as it did the first time, whatever has happened to the auction since.
local keyField = bidderId .. '\\n' .. idempotencyKey
local stored = redis.call('HGET', keys, keyField)
if stored then
  local earlier = cjson.decode(stored).bid
  if earlier.amount == amount and earlier.maxAmount == maxAmount then return {'DUPLICATE', stored} end
  return {'KEY_REUSED'}
end
-- Checked after the retried key: a bid accepted earlier keeps its answer while new ones wait.
if pauseNewBids then return {'PAUSED'} end

local f = redis.call('HMGET', auction, 'sellerId', 'state', 'startsAt', 'endsAt', 'startingPrice',
  'currentPrice', 'bidCount', 'lastSeq', 'leadingBidId', 'leaderId', 'leaderAmount', 'scheduledEndsAt', 'softCloseSeconds')
local state, endsAt = f[2], tonumber(f[4])
local currentPrice, bidCount, lastSeq = tonumber(f[6]), tonumber(f[7]), tonumber(f[8])

-- The server's clock is the only clock: every bid on this auction is judged against the same one.
${NOW_LUA}
if state == 'CANCELLED' or state == 'ENDED' then return {'NOT_ACTIVE', state} end
if now < tonumber(f[3]) then return {'NOT_ACTIVE', 'SCHEDULED'} end
if now >= endsAt then return {'NOT_ACTIVE', 'ENDED'} end
if bidderId == f[1] then return {'OWN_AUCTION'} end

local minimum = tonumber(f[5])
if bidCount > 0 then minimum = currentPrice + increment(currentPrice) end
if amount < minimum then return {'TOO_LOW', tostring(minimum)} end

local previousLeader = cjson.null
if f[9] then previousLeader = { bidId = f[9], bidderId = f[10], amount = tonumber(f[11]) } end
local at = iso(now)

-- Soft close: a bid within the window moves the end to its time + the window, never past the cap
-- (24 hours after the end the seller set). The move is an event of its own, right after the bid.
local seq, newEndsAt, extension = lastSeq + 1, endsAt, cjson.null
local window = tonumber(f[13] or '0') * 1000
if window > 0 and endsAt - now <= window then
  local target = math.min(now + window, tonumber(f[12] or f[4]) + EXTENSION_CAP_MS)
  if target > endsAt then
    newEndsAt = target
    extension = { seq = seq + 1, endsAt = iso(newEndsAt) }
  end
end
local message = cjson.encode({
  v = 1, type = 'BidPlaced', id = bidId, auctionId = auctionId, seq = seq, at = at,
  bid = { id = bidId, bidderId = bidderId, amount = amount, maxAmount = maxAmount,
          idempotencyKey = idempotencyKey, placedAt = at },
  currentPrice = amount, bidCount = bidCount + 1, minimumNextBid = amount + increment(amount),
  endsAt = iso(newEndsAt), previousLeader = previousLeader, extension = extension,
})

local newLastSeq = seq
if extension ~= cjson.null then newLastSeq = seq + 1 end
redis.call('HSET', auction, 'currentPrice', amount, 'bidCount', bidCount + 1, 'lastSeq', newLastSeq,
  'leadingBidId', bidId, 'leaderId', bidderId, 'leaderAmount', amount, 'endsAt', newEndsAt)
redis.call('HSET', keys, keyField, message)
if newEndsAt ~= endsAt then redis.call('PEXPIREAT', auction, newEndsAt + retentionMs) end
redis.call('PEXPIREAT', keys, newEndsAt + retentionMs)
return {'ACCEPTED', message}
`;

/** ARGV: expireAtMs, number of auction field/value args, auction fields..., idempotency fields... */
export const LOAD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local expireAt, n = ARGV[1], tonumber(ARGV[2])

-- HSET in slices: unpack() of thousands of accepted bids would overflow Lua's C stack.
local function hsetRange(key, from, to)
  for i = from, to, 200 do
    redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, to)))
  end
end

hsetRange(KEYS[1], 3, 2 + n)
redis.call('PEXPIREAT', KEYS[1], expireAt)
-- Records left over from an evicted copy are not the truth any more: the entry's list is.
redis.call('DEL', KEYS[2])
if #ARGV > 2 + n then
  hsetRange(KEYS[2], 3 + n, #ARGV)
  redis.call('PEXPIREAT', KEYS[2], expireAt)
end
return 1
`;

/**
 * ARGV: eventId, auctionId. Ends a due auction: the state, the winner and the AuctionEnded message with the
 * next seq, all in one step, so no bid can be accepted after it. The message is kept: every later
 * call answers with it unchanged, whichever worker asks.
 */
export const CLOSE_LUA = `
local auction = KEYS[1]
if redis.call('EXISTS', auction) == 0 then return {'MISSING'} end
local f = redis.call('HMGET', auction, 'state', 'finalMessage', 'endsAt', 'lastSeq', 'bidCount', 'currentPrice',
  'leadingBidId', 'leaderId', 'reservePrice')
if f[1] == 'ENDED' then return {'ENDED', f[2], '0'} end
if f[1] == 'CANCELLED' then return {'CANCELLED', f[2]} end
${ISO_LUA}
${NOW_LUA}
local endsAt = tonumber(f[3])
if now < endsAt then return {'NOT_DUE', tostring(endsAt)} end

local bidCount, currentPrice, reserve = tonumber(f[5]), tonumber(f[6]), tonumber(f[9])
local reserveStatus = 'NO_RESERVE'
if reserve then
  reserveStatus = 'NOT_MET'
  if bidCount > 0 and currentPrice >= reserve then reserveStatus = 'MET' end
end
local sold = bidCount > 0 and reserveStatus ~= 'NOT_MET'
local leadingBidId, leaderId = f[7] or cjson.null, f[8] or cjson.null
local message = cjson.encode({
  v = 1, type = 'AuctionEnded', id = ARGV[1], auctionId = ARGV[2], seq = tonumber(f[4]) + 1,
  -- Stamped at the end itself, not when a worker got to it: what happened, not when it was noticed.
  at = iso(endsAt),
  sold = sold, finalPrice = sold and currentPrice or cjson.null,
  winnerId = sold and leaderId or cjson.null, winningBidId = sold and leadingBidId or cjson.null,
  reserveStatus = reserveStatus, bidCount = bidCount,
  currentPrice = currentPrice, leadingBidId = leadingBidId, leaderId = leaderId,
})
redis.call('HSET', auction, 'state', 'ENDED', 'lastSeq', tonumber(f[4]) + 1, 'finalMessage', message)
if sold then redis.call('HSET', auction, 'winnerId', leaderId) end
return {'ENDED', message, '1'}
`;

/**
 * ARGV: eventId, auctionId, reason ('' for none), minRemainingWithBidsMs, saleCancelWindowMs.
 * Cancels a running auction (with bids, only while enough time remains) or the sale of a sold one
 * shortly after its end, with the next seq. A cancelled auction answers with its message again.
 */
export const CANCEL_LUA = `
local auction = KEYS[1]
if redis.call('EXISTS', auction) == 0 then return {'MISSING'} end
local f = redis.call('HMGET', auction, 'state', 'finalMessage', 'endsAt', 'lastSeq', 'bidCount')
if f[1] == 'CANCELLED' then return {'CANCELLED', f[2], '0'} end
${ISO_LUA}
${NOW_LUA}
local endsAt, bidCount = tonumber(f[3]), tonumber(f[5])
local afterEnd = false
if f[1] == 'ENDED' then
  if not cjson.decode(f[2]).sold or now - endsAt > tonumber(ARGV[5]) then return {'NOT_ACTIVE', 'ENDED'} end
  afterEnd = true
elseif now >= endsAt then
  -- Due but not yet closed: its end has come, so it is over whatever the closing job has done.
  return {'NOT_ACTIVE', 'ENDED'}
elseif bidCount > 0 and endsAt - now <= tonumber(ARGV[4]) then
  return {'TOO_LATE', tostring(endsAt)}
end
local reason = cjson.null
if ARGV[3] ~= '' then reason = ARGV[3] end
local message = cjson.encode({
  v = 1, type = 'AuctionCancelled', id = ARGV[1], auctionId = ARGV[2], seq = tonumber(f[4]) + 1, at = iso(now),
  reason = reason, afterEnd = afterEnd,
})
redis.call('HSET', auction, 'state', 'CANCELLED', 'lastSeq', tonumber(f[4]) + 1, 'finalMessage', message)
return {'CANCELLED', message, '1'}
`;

/** ARGV: endsAtMs, expireAtMs, reservePrice ('' for none). */
export const RESCHEDULE_LUA = `
-- Nothing held here: the database is then the only record, so there is nothing to refuse.
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local f = redis.call('HMGET', KEYS[1], 'bidCount', 'state')
if tonumber(f[1]) ~= 0 or f[2] ~= 'OPEN' then return 0 end
redis.call('HSET', KEYS[1], 'endsAt', ARGV[1], 'scheduledEndsAt', ARGV[1])
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'reservePrice') else redis.call('HSET', KEYS[1], 'reservePrice', ARGV[3]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return 1
`;
