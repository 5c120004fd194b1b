import type { Member } from '@confab/protocol';

interface PresencePanelProps {
  members: readonly Member[];
  ownUserId: string | null;
}

/** Lists the room's members, the signed-in user first, each with the number of devices they use. */
export function PresencePanel({ members, ownUserId }: PresencePanelProps) {
  const sorted = [...members].sort((a, b) => {
    if (a.id === ownUserId) {
      return -1;
    }
    if (b.id === ownUserId) {
      return 1;
    }
    return a.name.localeCompare(b.name);
  });

  return (
    <section className="presence" aria-labelledby="presence-heading">
      <h2 id="presence-heading" className="panel-heading">
        Members <span className="count">{members.length}</span>
      </h2>
      <ul className="presence__list" data-testid="members">
        {sorted.map((member) => (
          <li key={member.id} className="presence__member" data-testid="member">
            <span className="presence__dot" aria-hidden="true" />
            <span className="presence__name">
              {member.name}
              {member.id === ownUserId ? <span className="presence__you"> (you)</span> : null}
            </span>
            <span className="presence__devices" data-testid="member-devices">
              {member.devices === 1 ? '1 device' : `${member.devices} devices`}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
