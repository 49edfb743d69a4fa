/**
 * The cluster's Redis scripts. Each step that must look atomic to every node
 * (a handshake, a join, a rename, a leave, a node's death, a node's return)
 * is one Lua script: Redis runs it to the end before anything else, and the
 * presence events it publishes carry the next value of one counter (`seq`),
 * so every node sees presence changes in one order and can tell when it
 * missed some. Keys (prefix P, `wss:` by default):
 *
 * - `P seq`                   presence event counter
 * - `P nodes`                 ZSET node id → expiry (ms, Redis clock)
 * - `P sessions`              HASH private ID → JSON [node, handshake, options JSON]
 * - `P presence`              ZSET private ID → seq of its join or rename (the presence order)
 * - `P node:<id>:sessions`    SET of the node's private IDs
 * - `P node:<id>:hs`          ZSET of the node's pending handshakes → expiry
 * - `P hs:<ip>\n<user token>` HASH st (server token), pid (once joined), node
 * - `P ip:<ip>`               ZSET handshake → expiry (`inf` once joined): the per-IP count
 * - `P handshakes`            ZSET handshake → expiry: the cluster-wide count
 * - `P room:<room>`           HASH node id → members of the Signal room on that node
 * - `P node:<id>:rooms`       SET of the Signal rooms the node has members in
 *
 * Channels: `P bus` (presence events, broadcasts, heartbeats) and
 * `P inbox:<id>` (direct messages for one node).
 *
 * Every script gets the prefix as ARGV[1] and builds its keys from it (one
 * Redis instance; see docs/cluster.md for Redis Cluster). Times come from
 * Redis's clock (`TIME`), never from a node's.
 */

/**
 * Helpers every script starts with. A handshake is counted (per IP and
 * cluster-wide) with its expiry until a session binds it, then with `inf`;
 * `bind_handshake` is that step for `JOIN` and `SYNC` alike.
 */
const PRELUDE = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ip_of(member)
  return string.match(member, '^([^\\n]*)\\n')
end
local function count_handshake(member, expiry)
  redis.call('ZADD', P .. 'ip:' .. ip_of(member), expiry, member)
  redis.call('ZADD', P .. 'handshakes', expiry, member)
end
local function uncount_handshake(member)
  local ip = ip_of(member)
  if ip then redis.call('ZREM', P .. 'ip:' .. ip, member) end
  redis.call('ZREM', P .. 'handshakes', member)
end
local function bind_handshake(member, token, pid, node)
  local hs = P .. 'hs:' .. member
  redis.call('HSET', hs, 'st', token, 'pid', pid, 'node', node)
  redis.call('PERSIST', hs)
  count_handshake(member, 'inf')
end
local function forget_handshake(member)
  redis.call('DEL', P .. 'hs:' .. member)
  uncount_handshake(member)
end
local function drop_session(pid, entry)
  forget_handshake(entry[2])
  redis.call('HDEL', P .. 'sessions', pid)
  redis.call('ZREM', P .. 'presence', pid)
  redis.call('SREM', P .. 'node:' .. entry[1] .. ':sessions', pid)
end
local function session_of(pid, node)
  local raw = redis.call('HGET', P .. 'sessions', pid)
  if not raw then return nil end
  local entry = cjson.decode(raw)
  if node and entry[1] ~= node then return nil end
  return entry
end
local function publish(channel, seq, header, body)
  redis.call('PUBLISH', P .. channel, '{"s":' .. string.format('%d', seq) .. ',' .. string.sub(header, 2) .. '\\n' .. body)
end
local function list_json(list)
  if #list == 0 then return '[]' end
  return cjson.encode(list)
end
`;

/**
 * ARGV: prefix, handshake, server token, ttl ms (0: none), max per IP, node.
 * → {'ok', per IP, total} | {'exists'} | {'limit', per IP}
 */
export const OPEN_HANDSHAKE = `${PRELUDE}
local member, ttl, node = ARGV[2], tonumber(ARGV[4]), ARGV[6]
local t = now()
local ipset = P .. 'ip:' .. ip_of(member)
redis.call('ZREMRANGEBYSCORE', ipset, '-inf', t)
redis.call('ZREMRANGEBYSCORE', P .. 'handshakes', '-inf', t)
redis.call('ZREMRANGEBYSCORE', P .. 'node:' .. node .. ':hs', '-inf', t)
if redis.call('EXISTS', P .. 'hs:' .. member) == 1 then return {'exists'} end
local per_ip = redis.call('ZCARD', ipset)
if per_ip >= tonumber(ARGV[5]) then return {'limit', per_ip} end
redis.call('HSET', P .. 'hs:' .. member, 'st', ARGV[3], 'node', node)
local score = 'inf'
if ttl > 0 then
  redis.call('PEXPIRE', P .. 'hs:' .. member, ttl)
  score = t + ttl
end
count_handshake(member, score)
redis.call('ZADD', P .. 'node:' .. node .. ':hs', score, member)
return {'ok', per_ip + 1, redis.call('ZCARD', P .. 'handshakes')}
`;

/** ARGV: prefix, handshake. Drops it unless a session holds it. → 1 dropped | 0 */
export const DROP_HANDSHAKE = `${PRELUDE}
local member = ARGV[2]
local record = redis.call('HMGET', P .. 'hs:' .. member, 'pid', 'node')
if record[1] then return 0 end
if record[2] then redis.call('ZREM', P .. 'node:' .. record[2] .. ':hs', member) end
forget_handshake(member)
return 1
`;

/**
 * ARGV: prefix, handshake, server token, private ID, options JSON, node, event header, announce.
 * → {'ok', seq} | {'no-handshake'} | {'token-mismatch'} | {'bound'} | {'taken'}
 */
export const JOIN = `${PRELUDE}
local member, token, pid, node = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local record = redis.call('HMGET', P .. 'hs:' .. member, 'st', 'pid', 'node')
if not record[1] then return {'no-handshake'} end
if record[1] ~= token then return {'token-mismatch'} end
if record[2] then return {'bound'} end
if redis.call('HEXISTS', P .. 'sessions', pid) == 1 then return {'taken'} end
if record[3] then redis.call('ZREM', P .. 'node:' .. record[3] .. ':hs', member) end
bind_handshake(member, token, pid, node)
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', P .. 'sessions', pid, cjson.encode({node, member, ARGV[5]}))
redis.call('ZADD', P .. 'presence', seq, pid)
redis.call('SADD', P .. 'node:' .. node .. ':sessions', pid)
publish('bus', seq, ARGV[7], ARGV[5] .. '\\n' .. ARGV[8])
return {'ok', seq}
`;

/** ARGV: prefix, from, to, node, event header, announce. → {'renamed', seq} | {'taken'} | {'gone'} */
export const RENAME = `${PRELUDE}
local from, to, node = ARGV[2], ARGV[3], ARGV[4]
local sessions = P .. 'sessions'
local raw = redis.call('HGET', sessions, from)
if not raw then return {'gone'} end
local entry = cjson.decode(raw)
if entry[1] ~= node then return {'gone'} end
if redis.call('HEXISTS', sessions, to) == 1 then return {'taken'} end
redis.call('HDEL', sessions, from)
redis.call('HSET', sessions, to, raw)
redis.call('HSET', P .. 'hs:' .. entry[2], 'pid', to)
redis.call('SREM', P .. 'node:' .. node .. ':sessions', from)
redis.call('SADD', P .. 'node:' .. node .. ':sessions', to)
local seq = redis.call('INCR', P .. 'seq')
redis.call('ZREM', P .. 'presence', from)
redis.call('ZADD', P .. 'presence', seq, to)
publish('bus', seq, ARGV[5], ARGV[6])
return {'renamed', seq}
`;

/** ARGV: prefix, private ID, node, event header, announce ('' for none). → {'left', seq} | {'gone'} */
export const LEAVE = `${PRELUDE}
local pid, node = ARGV[2], ARGV[3]
local entry = session_of(pid, node)
if not entry then return {'gone'} end
drop_session(pid, entry)
local seq = redis.call('INCR', P .. 'seq')
publish('bus', seq, ARGV[4], ARGV[5])
return {'left', seq}
`;

/**
 * ARGV: prefix, node, ttl ms, beat message. Renews the node's expiry, tidies
 * up to 100 expired handshakes and publishes the beat.
 * → 1 when the node was not registered (new, reaped, or Redis lost its data), else 0
 */
export const BEAT = `${PRELUDE}
local t = now()
local added = redis.call('ZADD', P .. 'nodes', t + tonumber(ARGV[3]), ARGV[2])
local expired = redis.call('ZRANGEBYSCORE', P .. 'handshakes', '-inf', t, 'LIMIT', 0, 100)
for _, member in ipairs(expired) do uncount_handshake(member) end
redis.call('PUBLISH', P .. 'bus', ARGV[4])
return added
`;

/**
 * ARGV: prefix, dead node, reaping node. Removes a node whose expiry has
 * passed (or the reaping node itself, leaving), with its sessions and pending
 * handshakes, and publishes one event listing the sessions that left.
 * → {'alive', ms left} | {'reaped', count} | {'unknown'} (Redis knows nothing of it)
 */
export const REAP = `${PRELUDE}
local dead, reaper = ARGV[2], ARGV[3]
local leaving = dead == reaper
local t = now()
local score = redis.call('ZSCORE', P .. 'nodes', dead)
if score and tonumber(score) > t and not leaving then return {'alive', tonumber(score) - t} end
redis.call('ZREM', P .. 'nodes', dead)
local left = {}
local own = P .. 'node:' .. dead .. ':sessions'
for _, pid in ipairs(redis.call('SMEMBERS', own)) do
  local entry = session_of(pid, dead)
  if entry then
    drop_session(pid, entry)
    left[#left + 1] = pid
  end
end
redis.call('DEL', own)
local pending = P .. 'node:' .. dead .. ':hs'
for _, member in ipairs(redis.call('ZRANGE', pending, 0, -1)) do
  if not redis.call('HGET', P .. 'hs:' .. member, 'pid') then forget_handshake(member) end
end
redis.call('DEL', pending)
local rooms = P .. 'node:' .. dead .. ':rooms'
for _, room in ipairs(redis.call('SMEMBERS', rooms)) do redis.call('HDEL', P .. 'room:' .. room, dead) end
redis.call('DEL', rooms)
if not score and #left == 0 and not leaving then return {'unknown'} end
local seq = redis.call('INCR', P .. 'seq')
publish('bus', seq, cjson.encode({k = 'x', n = reaper, d = dead}), list_json(left))
return {'reaped', #left}
`;

/**
 * ARGV: prefix, node, ttl ms, then per session: private ID, handshake, server
 * token, options JSON. Registers the node again with exactly these sessions
 * (after Redis lost its data, or after the node was taken for dead) and
 * publishes them in one event. A private ID or handshake someone else holds
 * now is a conflict: that session is not registered.
 * → {seq, {conflicting private IDs}}
 */
export const SYNC = `${PRELUDE}
local node = ARGV[2]
redis.call('ZADD', P .. 'nodes', now() + tonumber(ARGV[3]), node)
local own = P .. 'node:' .. node .. ':sessions'
local wanted = {}
for i = 4, #ARGV, 4 do wanted[ARGV[i]] = true end
for _, pid in ipairs(redis.call('SMEMBERS', own)) do
  if not wanted[pid] then
    local entry = session_of(pid, node)
    if entry then drop_session(pid, entry) end
    redis.call('SREM', own, pid)
  end
end
local seq = redis.call('INCR', P .. 'seq')
local kept, conflicts = {}, {}
for i = 4, #ARGV, 4 do
  local pid, member, token, options = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local held = redis.call('HGET', P .. 'sessions', pid)
  local record = redis.call('HMGET', P .. 'hs:' .. member, 'st', 'pid')
  local mine = held and cjson.decode(held)[1] == node
  if (held and not mine) or (record[1] and (record[1] ~= token or (record[2] and record[2] ~= pid))) then
    conflicts[#conflicts + 1] = pid
  else
    if not held then
      redis.call('HSET', P .. 'sessions', pid, cjson.encode({node, member, options}))
      redis.call('ZADD', P .. 'presence', seq, pid)
      redis.call('SADD', own, pid)
    end
    bind_handshake(member, token, pid, node)
    kept[#kept + 1] = {pid, options}
  end
end
publish('bus', seq, cjson.encode({k = 's', n = node}), list_json(kept))
return {seq, conflicts}
`;

/**
 * ARGV: prefix. The whole presence at one point of the event order.
 * → {seq, {live node ids}, {private ID, seq, …} in presence order, {private ID, entry JSON, …}}
 */
export const SNAPSHOT = `${PRELUDE}
local seq = tonumber(redis.call('GET', P .. 'seq') or '0')
local nodes = redis.call('ZRANGEBYSCORE', P .. 'nodes', now(), 'inf')
return {seq, nodes, redis.call('ZRANGE', P .. 'presence', 0, -1), redis.call('HGETALL', P .. 'sessions')}
`;

/** ARGV: prefix, node, room, members on the node (0: none left). Keeps a Signal room's per-node count. */
export const ROOM_COUNT = `${PRELUDE}
local node, room, count = ARGV[2], ARGV[3], tonumber(ARGV[4])
if count > 0 then
  redis.call('HSET', P .. 'room:' .. room, node, count)
  redis.call('SADD', P .. 'node:' .. node .. ':rooms', room)
else
  redis.call('HDEL', P .. 'room:' .. room, node)
  redis.call('SREM', P .. 'node:' .. node .. ':rooms', room)
end
return 1
`;

/** ARGV: prefix, node, then room, count pairs: the node's Signal rooms, replacing what Redis had. */
export const ROOMS_SYNC = `${PRELUDE}
local node = ARGV[2]
local own = P .. 'node:' .. node .. ':rooms'
for _, room in ipairs(redis.call('SMEMBERS', own)) do redis.call('HDEL', P .. 'room:' .. room, node) end
redis.call('DEL', own)
for i = 3, #ARGV, 2 do
  redis.call('HSET', P .. 'room:' .. ARGV[i], node, ARGV[i + 1])
  redis.call('SADD', own, ARGV[i])
end
return 1
`;

/** ARGV: prefix, room, message. Publishes a Signal room event on the bus. → the room's members on every node */
export const ROOM_PUBLISH = `${PRELUDE}
local total = 0
for _, count in ipairs(redis.call('HVALS', P .. 'room:' .. ARGV[2])) do total = total + tonumber(count) end
redis.call('PUBLISH', P .. 'bus', ARGV[3])
return total
`;
