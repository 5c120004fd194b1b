import { defineScript } from './redis-link.js';

// Key layout, under the cluster's key prefix P (room and node names contain no newline, which the
// fields use as separator):
//   P presence:nodes                 set of node instance ids that have registered
//   P presence:lease:<node>          exists while the node is alive; expires unless renewed
//   P presence:node:<node>           hash "<room>\n<connection>" -> user id: the node's entries
//   P presence:room:<room>:conns     hash "<node>\n<connection>" -> user id
//   P presence:room:<room>:users     hash user id -> number of connections in the room
//   P presence:room:<room>:names     hash user id -> display name
//   P presence                       channel of first-join and last-leave changes
// Every change goes through one of these scripts, so the counts and the published changes agree
// even when nodes race.

const REMOVE_ENTRY_FUNCTION = `
local function removeEntry(prefix, node, room, conn, change)
  local roomKey = prefix .. 'presence:room:' .. room
  local connField = node .. '\\n' .. conn
  local userId = redis.call('HGET', roomKey .. ':conns', connField)
  if not userId then
    return 0
  end
  redis.call('HDEL', roomKey .. ':conns', connField)
  redis.call('HDEL', prefix .. 'presence:node:' .. node, room .. '\\n' .. conn)
  if redis.call('HINCRBY', roomKey .. ':users', userId, -1) > 0 then
    return 1
  end
  redis.call('HDEL', roomKey .. ':users', userId)
  local name = redis.call('HGET', roomKey .. ':names', userId)
  redis.call('HDEL', roomKey .. ':names', userId)
  redis.call('PUBLISH', prefix .. 'presence', cjson.encode({
    change = change, room = room, action = 'leave', user = { id = userId, name = name or userId }
  }))
  return 2
end
`;

/**
 * Records a connection in a room. ARGV: prefix, node, room, connection, user id, name, change id.
 * Returns 0 if it was recorded already, 1 if the user was in the room already, 2 on a first join.
 */
export const ADD_SCRIPT = defineScript(`
local prefix, node, room, conn, userId, name, change = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local roomKey = prefix .. 'presence:room:' .. room
if redis.call('HSETNX', roomKey .. ':conns', node .. '\\n' .. conn, userId) == 0 then
  return 0
end
redis.call('HSET', prefix .. 'presence:node:' .. node, room .. '\\n' .. conn, userId)
-- The node's lease was set when it started; listing the node here too means that no entry can
-- exist for a node that sweeps would never look at.
redis.call('SADD', prefix .. 'presence:nodes', node)
redis.call('HSET', roomKey .. ':names', userId, name)
if redis.call('HINCRBY', roomKey .. ':users', userId, 1) == 1 then
  redis.call('PUBLISH', prefix .. 'presence', cjson.encode({
    change = change, room = room, action = 'join', user = { id = userId, name = name }
  }))
  return 2
end
return 1
`);

/**
 * Removes a connection from a room. ARGV: prefix, node, room, connection, change id.
 * Returns 0 if it was not recorded, 1 if the user is still in the room, 2 on a last leave.
 */
export const REMOVE_SCRIPT = defineScript(`
${REMOVE_ENTRY_FUNCTION}
return removeEntry(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`);

/**
 * Removes every entry of a node whose lease has expired, publishing the leaves that follow.
 * ARGV: prefix, node, change id prefix. Returns -1 if the node's lease is alive, else the number of
 * entries removed. Safe to run on several nodes at once: the second run finds nothing left.
 */
export const SWEEP_NODE_SCRIPT = defineScript(`
${REMOVE_ENTRY_FUNCTION}
local prefix, node = ARGV[1], ARGV[2]
if redis.call('EXISTS', prefix .. 'presence:lease:' .. node) == 1 then
  return -1
end
local entries = redis.call('HGETALL', prefix .. 'presence:node:' .. node)
local removed = 0
for i = 1, #entries, 2 do
  local field = entries[i]
  local separator = string.find(field, '\\n', 1, true)
  local room = string.sub(field, 1, separator - 1)
  local conn = string.sub(field, separator + 1)
  removeEntry(prefix, node, room, conn, ARGV[3] .. ':' .. i)
  removed = removed + 1
end
redis.call('DEL', prefix .. 'presence:node:' .. node)
redis.call('SREM', prefix .. 'presence:nodes', node)
return removed
`);

/** Renews a node's lease. ARGV: prefix, node, ttl in ms. Returns 1 if the lease was still alive. */
export const RENEW_LEASE_SCRIPT = defineScript(`
local lease = ARGV[1] .. 'presence:lease:' .. ARGV[2]
local alive = redis.call('EXISTS', lease)
redis.call('SET', lease, '1', 'PX', ARGV[3])
redis.call('SADD', ARGV[1] .. 'presence:nodes', ARGV[2])
return alive
`);

/** Lists the registered nodes whose lease has expired. ARGV: prefix. */
export const FIND_EXPIRED_NODES_SCRIPT = defineScript(`
local expired = {}
for _, node in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'presence:nodes')) do
  if redis.call('EXISTS', ARGV[1] .. 'presence:lease:' .. node) == 0 then
    table.insert(expired, node)
  end
end
return expired
`);

/** Reads a room's members as a flat list: user id, connection count, name, and so on. ARGV: prefix, room. */
export const MEMBERS_SCRIPT = defineScript(`
local roomKey = ARGV[1] .. 'presence:room:' .. ARGV[2]
local counts = redis.call('HGETALL', roomKey .. ':users')
local result = {}
for i = 1, #counts, 2 do
  table.insert(result, counts[i])
  table.insert(result, counts[i + 1])
  table.insert(result, redis.call('HGET', roomKey .. ':names', counts[i]) or counts[i])
end
return result
`);
