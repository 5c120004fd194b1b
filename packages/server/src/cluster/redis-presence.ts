import type { Member, UserRef } from '@confab/protocol';
import type { Logger } from 'pino';

import type { PresenceChange, PresenceListener, PresenceService } from '../presence-service.js';
import {
  ADD_SCRIPT,
  FIND_EXPIRED_NODES_SCRIPT,
  MEMBERS_SCRIPT,
  REMOVE_SCRIPT,
  RENEW_LEASE_SCRIPT,
  SWEEP_NODE_SCRIPT,
} from './presence-scripts.js';
import type { RedisLink } from './redis-link.js';

export interface RedisPresenceOptions {
  /** A node whose lease is not renewed for this long is declared dead and its users leave. */
  leaseTtlMs: number;
  /** How often the lease is renewed and expired nodes are swept; a third of the TTL by default. */
  renewIntervalMs?: number;
}

export const DEFAULT_PRESENCE_LEASE_TTL_MS = 15_000;
// How long add and remove wait for their own change to come back through the channel, so that
// the listener has fired before they resolve, as with the in-memory presence.
const OWN_CHANGE_WAIT_MS = 1000;

interface LocalEntry {
  room: string;
  user: UserRef;
  connectionId: string;
}

interface PublishedChange extends PresenceChange {
  change: string;
}

/**
 * Presence shared by every node through Redis. Each node records its connections under its own
 * instance id and keeps a lease key alive. A user is in a room while some node with a live lease
 * has recorded one of their connections there. When a node dies without cleaning up, its lease
 * expires, and the next sweep by any surviving node removes its entries and publishes the leaves,
 * within `leaseTtlMs + renewIntervalMs` of the crash.
 *
 * First-join and last-leave changes are published by the Redis scripts that make them, on one
 * channel, and every node (this one included) reports them to its listener in that one order.
 *
 * This node's own entries are also kept in memory. While Redis is away, changes are only recorded
 * there and `members` returns them. When Redis returns, the node's entries in Redis are brought
 * back in line and the changes published.
 */
export class RedisPresence implements PresenceService {
  private readonly local = new Map<string, LocalEntry>();
  /** Number of entries in `local` per room. */
  private readonly localRoomCounts = new Map<string, number>();
  /**
   * For each room with a connection here, the members as reported to this node's listener. When
   * changes may have been missed because the subscriber lost its connection, it is compared with Redis.
   */
  private readonly announced = new Map<string, Map<string, UserRef>>();
  /** Changes heard per room, to notice one that arrives while a room is being compared. */
  private readonly heardCount = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();
  private readonly leaseTtlMs: number;
  private readonly renewIntervalMs: number;
  private listener: PresenceListener = () => {};
  /** The latest whole-node step (resync, renewal, comparison); entry updates wait for it. */
  private exclusive: Promise<unknown> = Promise.resolve();
  /** Entry updates under way; a whole-node step waits for them. */
  private readonly entryUpdates = new Set<Promise<unknown>>();
  /** The latest update of each entry, so that updates of one connection run in order. */
  private readonly entryChains = new Map<string, Promise<unknown>>();
  private renewTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private changeCounter = 0;
  private registered = false;
  /** Whether Redis may differ from `local`, because a write failed. */
  private outOfSync = false;
  private closed = false;

  constructor(
    private readonly link: RedisLink,
    private readonly logger: Logger,
    options: RedisPresenceOptions,
  ) {
    if (link.nodeInstanceId.includes('\n')) {
      throw new TypeError('node instance id contains a newline; choose a node id without one');
    }
    this.leaseTtlMs = options.leaseTtlMs;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(100, Math.floor(options.leaseTtlMs / 3));
    link.retain();
  }

  async start(listener: PresenceListener): Promise<void> {
    this.listener = listener;
    this.link.onCommandsReady(() => void this.exclusively(() => this.resync()));
    this.link.onSubscriberRecovered(() => this.scheduleViewReconcile());
    await this.link.subscribe(this.channel, (text) => this.receive(text));
    await this.link.connect();
    // Take the lease before the first add: a node listed without a lease would be swept at once.
    await this.exclusively(() => this.resync());

    this.renewTimer = setInterval(() => void this.exclusively(() => this.tick()), this.renewIntervalMs);
    this.renewTimer.unref();
    this.logger.info(
      { leaseTtlMs: this.leaseTtlMs, renewIntervalMs: this.renewIntervalMs },
      'cluster presence started',
    );
  }

  async add(room: string, user: UserRef, connectionId: string): Promise<void> {
    const field = entryField(room, connectionId);
    if (this.local.has(field)) {
      return;
    }
    this.local.set(field, { room, user, connectionId });
    this.localRoomCounts.set(room, (this.localRoomCounts.get(room) ?? 0) + 1);
    await this.updateEntry(field, () => this.addInRedis(room, user, connectionId));
    if (!this.announced.has(room)) {
      const members = await this.members(room);
      if (this.hasLocalEntryIn(room) && !this.announced.has(room)) {
        this.announced.set(room, new Map(members.map((member) => [member.id, { id: member.id, name: member.name }])));
      }
    }
  }

  async remove(room: string, _userId: string, connectionId: string): Promise<void> {
    const field = entryField(room, connectionId);
    if (!this.local.delete(field)) {
      return;
    }
    const remaining = (this.localRoomCounts.get(room) ?? 1) - 1;
    if (remaining > 0) {
      this.localRoomCounts.set(room, remaining);
    } else {
      this.localRoomCounts.delete(room);
    }
    await this.updateEntry(field, () => this.removeInRedis(room, connectionId));
    if (!this.hasLocalEntryIn(room)) {
      this.announced.delete(room);
      this.heardCount.delete(room);
    }
  }

  async members(room: string): Promise<Member[]> {
    if (this.link.isReady) {
      try {
        const flat = (await this.link.runScript(MEMBERS_SCRIPT, [], [this.link.keyPrefix, room])) as string[];
        const members: Member[] = [];
        for (let i = 0; i + 2 < flat.length; i += 3) {
          members.push({ id: String(flat[i]), devices: Number(flat[i + 1]), name: String(flat[i + 2]) });
        }
        return members;
      } catch (error) {
        this.logger.warn({ err: error, room }, 'could not read members from Redis; returning this node\'s members only');
      }
    }
    return this.localMembers(room);
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.reconcileTimer);
    // The removes that closing connections started are in the queue, so wait for them. Then clear
    // whatever is left of this node now rather than when the lease expires.
    await this.exclusively(async () => {});
    if (this.link.isReady) {
      try {
        await this.link.commands.del(this.link.key(`presence:lease:${this.link.nodeInstanceId}`));
        await this.link.runScript(SWEEP_NODE_SCRIPT, [], [this.link.keyPrefix, this.link.nodeInstanceId, this.nextChangeId()]);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not clear this node\'s presence; other nodes clear it when the lease expires');
      }
    }
    for (const resolve of this.waiters.values()) {
      resolve();
    }
    this.waiters.clear();
    this.local.clear();
    this.localRoomCounts.clear();
    this.announced.clear();
    await this.link.release();
  }

  private get channel(): string {
    return this.link.key('presence');
  }

  /**
   * Runs a step that reads or rewrites all of this node's entries, once the entry updates under way
   * have finished and before any new one starts, so that the two never interleave.
   */
  private exclusively(work: () => Promise<unknown>): Promise<void> {
    const previous = this.exclusive;
    const run = (async () => {
      await previous;
      await Promise.allSettled([...this.entryUpdates]);
      if (!this.closed) {
        await work();
      }
    })();
    this.exclusive = run.catch(() => undefined);
    return this.absorbFailure(run);
  }

  /**
   * Runs the update of one entry. Updates of different entries run concurrently, which a
   * reconnect storm after a node failure needs; updates of one entry run in order.
   */
  private updateEntry(field: string, work: () => Promise<void>): Promise<void> {
    const previous = this.entryChains.get(field) ?? Promise.resolve();
    const exclusive = this.exclusive;
    const run = (async () => {
      await previous;
      await exclusive;
      if (!this.closed) {
        await work();
      }
    })();
    const settled = run.catch(() => undefined);
    this.entryUpdates.add(settled);
    this.entryChains.set(field, settled);
    void settled.then(() => {
      this.entryUpdates.delete(settled);
      if (this.entryChains.get(field) === settled) {
        this.entryChains.delete(field);
      }
    });
    return this.absorbFailure(run);
  }

  /** Logs a failed Redis step and marks Redis as out of line with this node, to be resynced. */
  private async absorbFailure(run: Promise<void>): Promise<void> {
    try {
      await run;
    } catch (error) {
      this.outOfSync = true;
      this.logger.warn({ err: error }, 'presence update in Redis failed; resyncing when Redis is reachable');
    }
  }

  private async addInRedis(room: string, user: UserRef, connectionId: string): Promise<void> {
    if (!this.link.isReady) {
      this.outOfSync = true;
      return;
    }
    const change = this.nextChangeId();
    const echoed = this.expectEcho(change);
    const outcome = await this.link.runScript(ADD_SCRIPT, [], [
      this.link.keyPrefix,
      this.link.nodeInstanceId,
      room,
      connectionId,
      user.id,
      user.name,
      change,
    ]);
    await this.settleEcho(change, echoed, outcome === 2);
  }

  private async removeInRedis(room: string, connectionId: string): Promise<void> {
    if (!this.link.isReady) {
      this.outOfSync = true;
      return;
    }
    const change = this.nextChangeId();
    const echoed = this.expectEcho(change);
    const outcome = await this.link.runScript(REMOVE_SCRIPT, [], [
      this.link.keyPrefix,
      this.link.nodeInstanceId,
      room,
      connectionId,
      change,
    ]);
    await this.settleEcho(change, echoed, outcome === 2);
  }

  private expectEcho(change: string): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.set(change, resolve));
  }

  /** Waits (boundedly) for a published change to reach the listener; drops the wait otherwise. */
  private async settleEcho(change: string, echoed: Promise<void>, published: boolean): Promise<void> {
    if (!published || !this.link.isSubscriberReady) {
      this.waiters.delete(change);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, OWN_CHANGE_WAIT_MS);
    });
    await Promise.race([echoed, timeout]);
    clearTimeout(timer);
    this.waiters.delete(change);
  }

  private receive(text: string): void {
    let change: PublishedChange;
    try {
      change = JSON.parse(text) as PublishedChange;
    } catch (error) {
      this.logger.warn({ err: error }, 'dropped a presence message that is not JSON');
      return;
    }
    this.announce({ room: change.room, action: change.action, user: { id: change.user.id, name: change.user.name } });
    this.heardCount.set(change.room, (this.heardCount.get(change.room) ?? 0) + 1);
    const waiter = this.waiters.get(change.change);
    if (waiter !== undefined) {
      this.waiters.delete(change.change);
      waiter();
    }
  }

  /** Renews the lease, resyncs if it had lapsed or a write failed, and sweeps expired nodes. */
  private async tick(): Promise<void> {
    if (!this.link.isReady) {
      return;
    }
    const alive = await this.link.runScript(RENEW_LEASE_SCRIPT, [], [
      this.link.keyPrefix,
      this.link.nodeInstanceId,
      String(this.leaseTtlMs),
    ]);
    if (alive !== 1 && this.registered) {
      this.logger.warn('this node\'s presence lease had expired; other nodes may have removed its users, restoring them');
      this.outOfSync = true;
    }
    this.registered = true;
    if (this.outOfSync) {
      await this.resync();
    }
    await this.sweepExpiredNodes();
  }

  private async sweepExpiredNodes(): Promise<void> {
    const expired = (await this.link.runScript(FIND_EXPIRED_NODES_SCRIPT, [], [this.link.keyPrefix])) as string[];
    for (const node of expired) {
      if (node === this.link.nodeInstanceId) {
        continue;
      }
      const removed = await this.link.runScript(SWEEP_NODE_SCRIPT, [], [this.link.keyPrefix, node, this.nextChangeId()]);
      if (typeof removed === 'number' && removed >= 0) {
        this.logger.warn({ expiredInstance: node, connections: removed }, 'removed the presence of a node whose lease expired');
      }
    }
  }

  /** Makes this node's entries in Redis match `local`, publishing the joins and leaves that follow. */
  private async resync(): Promise<void> {
    if (!this.link.isReady) {
      return;
    }
    await this.link.runScript(RENEW_LEASE_SCRIPT, [], [
      this.link.keyPrefix,
      this.link.nodeInstanceId,
      String(this.leaseTtlMs),
    ]);
    this.registered = true;
    this.outOfSync = false;

    const stored = await this.link.commands.hGetAll(this.link.key(`presence:node:${this.link.nodeInstanceId}`));
    let added = 0;
    let removed = 0;
    for (const [field, entry] of this.local) {
      if (!(field in stored)) {
        await this.addInRedis(entry.room, entry.user, entry.connectionId);
        added++;
      }
    }
    for (const field of Object.keys(stored)) {
      if (!this.local.has(field)) {
        const separator = field.indexOf('\n');
        await this.removeInRedis(field.slice(0, separator), field.slice(separator + 1));
        removed++;
      }
    }
    if (added > 0 || removed > 0) {
      this.logger.info({ added, removed }, 'presence in Redis brought back in line with this node');
    }
  }

  /** Reports a change to the listener and records it in the room's announced members. */
  private announce(change: PresenceChange): void {
    const members = this.announced.get(change.room);
    if (members !== undefined) {
      if (change.action === 'join') {
        members.set(change.user.id, change.user);
      } else {
        members.delete(change.user.id);
      }
    }
    this.listener(change);
  }

  /**
   * After the subscriber was disconnected, changes may have been missed, and changes made while
   * Redis was down may never be published (a Redis restart loses the entries whose leave would
   * have been published). Once every live node has had time to resync, compare each room's
   * announced members with Redis and report the differences.
   */
  private scheduleViewReconcile(): void {
    if (this.closed) {
      return;
    }
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => void this.exclusively(() => this.reconcileViews()), this.renewIntervalMs * 2);
    this.reconcileTimer.unref();
  }

  private async reconcileViews(): Promise<void> {
    if (!this.link.isReady) {
      this.scheduleViewReconcile();
      return;
    }
    try {
      await this.compareViews();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not compare presence with Redis; retrying');
      this.scheduleViewReconcile();
    }
  }

  private async compareViews(): Promise<void> {
    let joins = 0;
    let leaves = 0;
    for (const room of [...this.announced.keys()]) {
      // A change heard while Redis was read may or may not be in what was read; read again then.
      for (let attempt = 0; attempt < 3; attempt++) {
        const heardBefore = this.heardCount.get(room) ?? 0;
        const flat = (await this.link.runScript(MEMBERS_SCRIPT, [], [this.link.keyPrefix, room])) as string[];
        if ((this.heardCount.get(room) ?? 0) !== heardBefore) {
          continue;
        }
        const announced = this.announced.get(room);
        if (announced === undefined) {
          break;
        }
        const stored = new Map<string, UserRef>();
        for (let i = 0; i + 2 < flat.length; i += 3) {
          stored.set(String(flat[i]), { id: String(flat[i]), name: String(flat[i + 2]) });
        }
        for (const [id, user] of [...announced]) {
          if (!stored.has(id)) {
            this.announce({ room, action: 'leave', user });
            leaves++;
          }
        }
        for (const [id, user] of stored) {
          if (!announced.has(id)) {
            this.announce({ room, action: 'join', user });
            joins++;
          }
        }
        break;
      }
    }
    if (joins > 0 || leaves > 0) {
      this.logger.info({ joins, leaves }, 'reported presence changes missed while Redis was unreachable');
    }
  }

  private hasLocalEntryIn(room: string): boolean {
    return (this.localRoomCounts.get(room) ?? 0) > 0;
  }

  private localMembers(room: string): Member[] {
    const members = new Map<string, Member>();
    for (const entry of this.local.values()) {
      if (entry.room !== room) {
        continue;
      }
      const member = members.get(entry.user.id);
      if (member === undefined) {
        members.set(entry.user.id, { id: entry.user.id, name: entry.user.name, devices: 1 });
      } else {
        member.devices++;
      }
    }
    return [...members.values()];
  }

  private nextChangeId(): string {
    this.changeCounter++;
    return `${this.link.nodeInstanceId}:${this.changeCounter}`;
  }
}

function entryField(room: string, connectionId: string): string {
  return `${room}\n${connectionId}`;
}
