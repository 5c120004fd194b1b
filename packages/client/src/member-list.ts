import type { Member, UserRef } from '@confab/protocol';

/**
 * Returns the member list after a presence frame, leaving `members` untouched; the same array
 * comes back when nothing changed. A join of a user already listed changes nothing (the list may
 * have come from a `members` frame that already counted them). A leave removes the user whatever
 * their device count was, because the server sends a leave only when the user's last connection
 * left.
 */
export function applyPresence(
  members: readonly Member[],
  action: 'join' | 'leave',
  user: UserRef,
): readonly Member[] {
  const listed = members.some((member) => member.id === user.id);
  if (action === 'join') {
    return listed ? members : [...members, { id: user.id, name: user.name, devices: 1 }];
  }

  return listed ? members.filter((member) => member.id !== user.id) : members;
}
