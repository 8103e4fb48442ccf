import { EXTENSION_CAP_MS } from '../../domain/auction-rules.js';

// The price book's Lua scripts. They live in a TypeScript module rather than .lua files so that the
// compiled build (dist/) carries them without a copy step.
//
// Every script touches only the two keys of one auction, which share the hash tag {<auctionId>}:
//   KEYS[1] the book HASH, kept small enough for Redis's compact listpack encoding (short field
//           names, integers where it can, nothing that can be derived; times in epoch ms):
//             s sellerId (a UUID as its 16 bytes)   S state (absent: OPEN)   b startsAt   e endsAt
//             E scheduledEndsAt (absent: e)   w softCloseSeconds (absent: 0)
//             o startingPrice   r reservePrice (absent: none)   p currentPrice (absent: o)
//             B buyNowPrice (absent: none)
//             n bidCount (absent: 0)   q lastSeq (absent: 0)   P the highest seq persisted (absent: 0)
//             l leadingBidId   L leaderId   m the leader's secret maximum (absent: p)   W winnerId
//             f the AuctionEnded or AuctionCancelled message that closed it
//           and one idempotency record per accepted bid: field = the first 64 bits of
//           sha1(bidderId .. '\n' .. idempotencyKey), as 8 raw bytes (never 1 or 2 bytes long, so
//           never a book field); value = 'amount,seq', 'amount,seq,maxAmount' or 'price,seq,b'. A record answers a
//           retried key from then on. Two keys on one auction collide with a chance of about
//           n^2 / 2^65 for n keys: 3e-12 for an auction with 10,000 bids, so a retry never meets
//           another bidder's record in practice.
//   KEYS[2] the unpersisted-messages HASH: seq -> the accepted BidPlacedMessage JSON, held only until
//           the persister reports the bid stored (markPersisted), since a retry of a key whose bid
//           may not be in the log yet must publish that exact message again. Empty, it is gone.
//
// A book in an earlier layout ('v' other than BOOK_LAYOUT) is dropped and reported MISSING: it is
// then rebuilt from Postgres once everything accepted is persisted, as after any eviction.

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

/** The layout of the book hash, stored in its field 'v'; 2 added the leader's maximum and Buy It Now. */
export const BOOK_LAYOUT = 2;

// Whether KEYS[1] holds a book in this layout; one in an earlier layout is dropped (see above).
const HELD_LUA = `
local function held()
  if redis.call('HGET', KEYS[1], 'v') == '${BOOK_LAYOUT}' then return true end
  redis.call('DEL', KEYS[1])
  return false
end
`;

// The idempotency record of a bidder's key: 8 raw bytes of its SHA-1, and the value a retry compares:
// the amount asked for, the seq of the bid it placed, and its maximum when above the amount ('b'
// for a Buy It Now purchase).
const RECORD_LUA = `
local function recordField(bidderId, idempotencyKey)
  local hex = redis.sha1hex(bidderId .. '\\n' .. idempotencyKey):sub(1, 16)
  return (hex:gsub('..', function(byte) return string.char(tonumber(byte, 16)) end))
end
local function recordValue(amount, seq, tag)
  if tag == nil or tag == '' then return amount .. ',' .. seq end
  return amount .. ',' .. seq .. ',' .. tag
end
`;

// The increment table comes from incrementTableArgs() at ARGV[first]: [upTo, increment]... then the top increment.
const incrementLua = (first: number) => `
local function increment(price)
  for i = ${first}, #ARGV - 1, 2 do
    if price < tonumber(ARGV[i]) then return tonumber(ARGV[i + 1]) end
  end
  return tonumber(ARGV[#ARGV])
end
`;

// What placing a bid and buying now share, up to the judgement itself: a retried key answers as it
// did the first time, whatever has happened to the auction since (with the message while the
// persister may still lack it, else with its seq, which finds the rest in Postgres); then a pause,
// the state and the clock, and the seller. Needs book, messages, bidderId, idempotencyKey,
// requestAmount, requestTag and pauseNewBids.
const JUDGE_PRELUDE_LUA = `
${ISO_LUA}
${HELD_LUA}
${RECORD_LUA}
-- A UUID as the book stores a seller's: its 16 bytes; nil for anything else.
local function packedUuid(id)
  if #id ~= 36 or not string.match(id, '^%x+%-%x+%-%x+%-%x+%-%x+$') then return nil end
  local hex = id:gsub('%-', '')
  return (hex:gsub('..', function(byte) return string.char(tonumber(byte, 16)) end))
end
if not held() then return {'MISSING'} end

local keyField = recordField(bidderId, idempotencyKey)
local stored = redis.call('HGET', book, keyField)
if stored then
  local earlierAmount, earlierSeq, earlierTag = string.match(stored, '^(%d+),(%d+),?(%w*)$')
  if tonumber(earlierAmount) ~= requestAmount or earlierTag ~= requestTag then return {'KEY_REUSED'} end
  local message = redis.call('HGET', messages, earlierSeq)
  if message then return {'DUPLICATE', message} end
  return {'DUPLICATE_PERSISTED', earlierSeq}
end
-- Checked after the retried key: a bid accepted earlier keeps its answer while new ones wait.
if pauseNewBids then return {'PAUSED'} end

local f = redis.call('HMGET', book, 's', 'S', 'b', 'e', 'o', 'p', 'n', 'q', 'l', 'L', 'E', 'w', 'm', 'r')
local state, endsAt = f[2] or 'OPEN', tonumber(f[4])
local startingPrice, currentPrice = tonumber(f[5]), tonumber(f[6] or f[5])
local bidCount, lastSeq = tonumber(f[7] or '0'), tonumber(f[8] or '0')
local leaderId, reserve = f[10], tonumber(f[14])
-- The leader's secret maximum: absent, it is the price.
local leaderMax = tonumber(f[13] or f[6] or f[5])

-- The server's clock is the only clock: every bid on this auction is judged against the same one.
${NOW_LUA}
if state == 'CANCELLED' or state == 'ENDED' then return {'NOT_ACTIVE', state} end
if now < tonumber(f[3]) then return {'NOT_ACTIVE', 'SCHEDULED'} end
if now >= endsAt then return {'NOT_ACTIVE', 'ENDED'} end
if bidderId == f[1] or packedUuid(bidderId) == f[1] then return {'OWN_AUCTION'} end

local previousLeader = cjson.null
if f[9] then previousLeader = { bidId = f[9], bidderId = leaderId, amount = currentPrice } end
local at = iso(now)
-- The leader and the price are those of the last bid; its maximum is stored only above its amount.
local function lead(bid, id, newBidCount, newLastSeq)
  redis.call('HSET', book, 'p', bid.amount, 'n', newBidCount, 'q', newLastSeq, 'l', id, 'L', bid.bidderId)
  if bid.maxAmount > bid.amount then redis.call('HSET', book, 'm', bid.maxAmount) elseif f[13] then redis.call('HDEL', book, 'm') end
end
`;

/**
 * ARGV: auctionId, bidId, automaticBidId, bidderId, amount, maxAmount ('' for none, or equal to the
 * amount), idempotencyKey, retentionMs, pauseNewBids ('1' or '0'), increment table. The rules of
 * domain/proxy-bidding.ts, step for step: one decision may place two bids, the request's own and an
 * automatic one for the other bidder, each with its seq; the message is the request's bid and
 * carries the automatic one.
 */
export const PLACE_BID_LUA = `
local book, messages = KEYS[1], KEYS[2]
local auctionId, bidId, automaticBidId, bidderId = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local amount = tonumber(ARGV[5])
local maxAmount = amount
if ARGV[6] ~= '' then maxAmount = tonumber(ARGV[6]) end
local idempotencyKey, retentionMs, pauseNewBids = ARGV[7], tonumber(ARGV[8]), ARGV[9] == '1'
local requestAmount, requestTag = amount, ARGV[6]
local EXTENSION_CAP_MS = ${EXTENSION_CAP_MS}
${incrementLua(10)}
${JUDGE_PRELUDE_LUA}
local minimum = startingPrice
if bidCount > 0 then minimum = currentPrice + increment(currentPrice) end
if amount < minimum then return {'TOO_LOW', tostring(minimum)} end

local function reserveFloor(max)
  if reserve and max >= reserve then return reserve end
  return 0
end
local bids, own = {}, 1
if leaderId and leaderId == bidderId then
  if maxAmount <= leaderMax then return {'TOO_LOW', tostring(math.max(minimum, leaderMax + 1))} end
  bids[1] = { bidderId = bidderId, amount = math.max(currentPrice, reserveFloor(maxAmount)), maxAmount = maxAmount }
elseif not leaderId then
  bids[1] = { bidderId = bidderId, amount = math.max(amount, reserveFloor(maxAmount)), maxAmount = maxAmount }
elseif maxAmount > leaderMax then
  if leaderMax > currentPrice then bids[1] = { bidderId = leaderId, amount = leaderMax, maxAmount = leaderMax, automatic = true } end
  local competitive = math.min(maxAmount, leaderMax + increment(leaderMax))
  bids[#bids + 1] = { bidderId = bidderId, amount = math.max(amount, competitive, reserveFloor(maxAmount)), maxAmount = maxAmount }
  own = #bids
else
  local answer = math.max(math.min(leaderMax, maxAmount + increment(maxAmount)), reserveFloor(leaderMax))
  bids[1] = { bidderId = bidderId, amount = maxAmount, maxAmount = maxAmount }
  bids[2] = { bidderId = leaderId, amount = answer, maxAmount = leaderMax, automatic = true }
end
local last = bids[#bids]
local seq = lastSeq + own

-- Soft close: a bid within the window moves the end to its time + the window, never past the cap
-- (24 hours after the end the seller set). The move is an event of its own, right after the bids.
local newEndsAt, extension = endsAt, cjson.null
local newLastSeq = lastSeq + #bids
local window = tonumber(f[12] or '0') * 1000
if window > 0 and endsAt - now <= window then
  local target = math.min(now + window, tonumber(f[11] or f[4]) + EXTENSION_CAP_MS)
  if target > endsAt then
    newEndsAt = target
    newLastSeq = newLastSeq + 1
    extension = { seq = newLastSeq, endsAt = iso(newEndsAt) }
  end
end
local automatic = cjson.null
if #bids == 2 then
  local other = bids[3 - own]
  automatic = { id = automaticBidId, bidderId = other.bidderId, amount = other.amount, maxAmount = other.maxAmount, seq = lastSeq + 3 - own }
end
local mine = bids[own]
local message = cjson.encode({
  v = 1, type = 'BidPlaced', id = bidId, auctionId = auctionId, seq = seq, at = at,
  bid = { id = bidId, bidderId = bidderId, amount = mine.amount, maxAmount = maxAmount, requestedAmount = amount,
          idempotencyKey = idempotencyKey, placedAt = at },
  currentPrice = last.amount, bidCount = bidCount + #bids, minimumNextBid = last.amount + increment(last.amount),
  endsAt = iso(newEndsAt), previousLeader = previousLeader, automatic = automatic, extension = extension,
})

local leadingId = bidId
if last ~= mine then leadingId = automaticBidId end
lead(last, leadingId, bidCount + #bids, newLastSeq)
redis.call('HSET', book, keyField, recordValue(amount, seq, requestTag))
if newEndsAt ~= endsAt then
  -- The end the seller set was implied by the end; once the end moves, it is kept.
  if not f[11] then redis.call('HSET', book, 'E', endsAt) end
  redis.call('HSET', book, 'e', newEndsAt)
  redis.call('PEXPIREAT', book, newEndsAt + retentionMs)
end
redis.call('HSET', messages, seq, message)
redis.call('PEXPIREAT', messages, newEndsAt + retentionMs)
return {'ACCEPTED', message}
`;

/**
 * ARGV: auctionId, bidId, eventId, bidderId, idempotencyKey, retentionMs, pauseNewBids ('1' or '0'),
 * increment table. Buys the item at its Buy It Now price while that is offered (no bid yet, or a
 * reserve not yet met): the purchase is a bid, and the auction ends with it in the same step, its
 * AuctionEnded message carried by the bid's and kept as the close's, so no bid and no closing job
 * can come after it with another outcome.
 */
export const BUY_NOW_LUA = `
local book, messages = KEYS[1], KEYS[2]
local auctionId, bidId, eventId, bidderId = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local idempotencyKey, retentionMs, pauseNewBids = ARGV[5], tonumber(ARGV[6]), ARGV[7] == '1'
local price = tonumber(redis.call('HGET', book, 'B') or '')
local requestAmount, requestTag = price or 0, 'b'
${incrementLua(8)}
${JUDGE_PRELUDE_LUA}
if not price or not (bidCount == 0 or (reserve and currentPrice < reserve)) then return {'NOT_OFFERED'} end

local seq = lastSeq + 1
local reserveStatus = 'NO_RESERVE'
if reserve then reserveStatus = 'MET' end
local ended = {
  v = 1, type = 'AuctionEnded', id = eventId, auctionId = auctionId, seq = seq + 1, at = at,
  sold = true, finalPrice = price, winnerId = bidderId, winningBidId = bidId,
  reserveStatus = reserveStatus, bidCount = bidCount + 1,
  currentPrice = price, leadingBidId = bidId, leaderId = bidderId,
}
local message = cjson.encode({
  v = 1, type = 'BidPlaced', id = bidId, auctionId = auctionId, seq = seq, at = at,
  bid = { id = bidId, bidderId = bidderId, amount = price, maxAmount = price, requestedAmount = price,
          idempotencyKey = idempotencyKey, placedAt = at, kind = 'BUY_NOW' },
  currentPrice = price, bidCount = bidCount + 1, minimumNextBid = price + increment(price),
  endsAt = at, previousLeader = previousLeader, ended = ended,
})
lead({ bidderId = bidderId, amount = price, maxAmount = price }, bidId, bidCount + 1, seq + 1)
-- It ends now: the end moves back to the purchase, and the end the seller set is kept.
if not f[11] then redis.call('HSET', book, 'E', endsAt) end
redis.call('HSET', book, 'e', now, 'S', 'ENDED', 'W', bidderId, 'f', cjson.encode(ended), keyField, recordValue(price, seq, 'b'))
redis.call('HSET', messages, seq, message)
redis.call('PEXPIREAT', messages, now + retentionMs)
redis.call('PEXPIREAT', book, now + retentionMs)
return {'ACCEPTED', message}
`;

/**
 * ARGV: expireAtMs, number of book field/value args, book fields..., then five args per accepted
 * bid: bidderId, idempotencyKey, amount, tag (maxAmount, 'b' for Buy It Now, '' for neither), seq.
 */
export const LOAD_LUA = `
${HELD_LUA}
${RECORD_LUA}
if held() then return 0 end
local expireAt, n = ARGV[1], tonumber(ARGV[2])

-- HSET in slices: unpack() of thousands of accepted bids would overflow Lua's C stack.
local function hsetAll(key, args)
  for i = 1, #args, 200 do
    redis.call('HSET', key, unpack(args, i, math.min(i + 199, #args)))
  end
end

local fields = {}
for i = 3, 2 + n do fields[#fields + 1] = ARGV[i] end
for i = 3 + n, #ARGV, 5 do
  fields[#fields + 1] = recordField(ARGV[i], ARGV[i + 1])
  fields[#fields + 1] = recordValue(ARGV[i + 2], ARGV[i + 4], ARGV[i + 3])
end
hsetAll(KEYS[1], fields)
redis.call('PEXPIREAT', KEYS[1], expireAt)
-- A book is rebuilt only once everything accepted is persisted: messages left over from an
-- earlier copy need no republishing any more.
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * ARGV: eventId, auctionId. Ends a due auction: the state, the winner and the AuctionEnded message with the
 * next seq, all in one step, so no bid can be accepted after it. The message is kept: every later
 * call answers with it unchanged, whichever worker asks.
 */
export const CLOSE_LUA = `
local book = KEYS[1]
${HELD_LUA}
if not held() then return {'MISSING'} end
local f = redis.call('HMGET', book, 'S', 'f', 'e', 'q', 'n', 'p', 'l', 'L', 'r', 'o')
if f[1] == 'ENDED' then return {'ENDED', f[2], '0'} end
if f[1] == 'CANCELLED' then return {'CANCELLED', f[2]} end
${ISO_LUA}
${NOW_LUA}
local endsAt = tonumber(f[3])
if now < endsAt then return {'NOT_DUE', tostring(endsAt)} end

local lastSeq, bidCount, currentPrice, reserve = tonumber(f[4] or '0'), tonumber(f[5] or '0'), tonumber(f[6] or f[10]), tonumber(f[9])
local reserveStatus = 'NO_RESERVE'
if reserve then
  reserveStatus = 'NOT_MET'
  if bidCount > 0 and currentPrice >= reserve then reserveStatus = 'MET' end
end
local sold = bidCount > 0 and reserveStatus ~= 'NOT_MET'
local leadingBidId, leaderId = f[7] or cjson.null, f[8] or cjson.null
local message = cjson.encode({
  v = 1, type = 'AuctionEnded', id = ARGV[1], auctionId = ARGV[2], seq = lastSeq + 1,
  -- Stamped at the end itself, not when a worker got to it: what happened, not when it was noticed.
  at = iso(endsAt),
  sold = sold, finalPrice = sold and currentPrice or cjson.null,
  winnerId = sold and leaderId or cjson.null, winningBidId = sold and leadingBidId or cjson.null,
  reserveStatus = reserveStatus, bidCount = bidCount,
  currentPrice = currentPrice, leadingBidId = leadingBidId, leaderId = leaderId,
})
redis.call('HSET', book, 'S', 'ENDED', 'q', lastSeq + 1, 'f', message)
if sold then redis.call('HSET', book, 'W', leaderId) end
return {'ENDED', message, '1'}
`;

/**
 * ARGV: eventId, auctionId, reason ('' for none), minRemainingWithBidsMs, saleCancelWindowMs.
 * Cancels a running auction (with bids, only while enough time remains) or the sale of a sold one
 * shortly after its end, with the next seq. A cancelled auction answers with its message again.
 */
export const CANCEL_LUA = `
local book = KEYS[1]
${HELD_LUA}
if not held() then return {'MISSING'} end
local f = redis.call('HMGET', book, 'S', 'f', 'e', 'q', 'n')
if f[1] == 'CANCELLED' then return {'CANCELLED', f[2], '0'} end
${ISO_LUA}
${NOW_LUA}
local endsAt, lastSeq, bidCount = tonumber(f[3]), tonumber(f[4] or '0'), tonumber(f[5] or '0')
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
  v = 1, type = 'AuctionCancelled', id = ARGV[1], auctionId = ARGV[2], seq = lastSeq + 1, at = iso(now),
  reason = reason, afterEnd = afterEnd,
})
redis.call('HSET', book, 'S', 'CANCELLED', 'q', lastSeq + 1, 'f', message)
return {'CANCELLED', message, '1'}
`;

/** ARGV: endsAtMs, expireAtMs, reservePrice ('' for none), buyNowPrice ('' for none). */
export const RESCHEDULE_LUA = `
${HELD_LUA}
-- Nothing held here: the database is then the only record, so there is nothing to refuse.
if not held() then return 1 end
local f = redis.call('HMGET', KEYS[1], 'n', 'S')
if tonumber(f[1] or '0') ~= 0 or (f[2] or 'OPEN') ~= 'OPEN' then return 0 end
-- The end the seller set is the end again, so it is implied rather than stored.
redis.call('HSET', KEYS[1], 'e', ARGV[1])
redis.call('HDEL', KEYS[1], 'E')
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'r') else redis.call('HSET', KEYS[1], 'r', ARGV[3]) end
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], 'B') else redis.call('HSET', KEYS[1], 'B', ARGV[4]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`;

/**
 * ARGV: seq, bidIds... The persister has stored the auction's log up to seq (and these bids): the
 * persisted seq moves up to it, and the bids' messages are dropped. Nothing is created for a book
 * that is not held.
 */
export const MARK_PERSISTED_LUA = `
if redis.call('HEXISTS', KEYS[1], 'e') == 0 then return 0 end
local seq = tonumber(ARGV[1])
if seq > tonumber(redis.call('HGET', KEYS[1], 'P') or '0') then redis.call('HSET', KEYS[1], 'P', seq) end
if #ARGV > 1 then
  local persisted = {}
  for i = 2, #ARGV do persisted[ARGV[i]] = true end
  -- Only the bids named: one persisted out of order leaves an earlier one still waiting.
  local held = redis.call('HGETALL', KEYS[2])
  for i = 1, #held, 2 do
    if persisted[cjson.decode(held[i + 1]).id] then redis.call('HDEL', KEYS[2], held[i]) end
  end
end
return 1
`;

/**
 * ARGV: idleSeconds. Deletes a book untouched for idleSeconds whose every event is persisted (its
 * persisted seq is its seq and no message waits), and nothing otherwise. Rebuilt from Postgres on
 * its next use, it answers as before. Idleness is the key's own LRU clock, read without touching it
 * (so the book must live under a non-LFU maxmemory-policy, which noeviction is).
 */
export const EVICT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('OBJECT', 'IDLETIME', KEYS[1]) < tonumber(ARGV[1]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local f = redis.call('HMGET', KEYS[1], 'q', 'P')
if tonumber(f[1] or '0') ~= tonumber(f[2] or '0') then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;
