/** Counts the open, authenticated connections of each user on this node. */
export class UserConnections {
  private readonly counts = new Map<string, number>();

  /** Registers a connection unless the user already has `max` open, and returns whether it did. */
  tryAdd(userId: string, max: number): boolean {
    const count = this.counts.get(userId) ?? 0;
    if (count >= max) {
      return false;
    }
    this.counts.set(userId, count + 1);
    return true;
  }

  remove(userId: string): void {
    const count = this.counts.get(userId) ?? 0;
    if (count <= 1) {
      this.counts.delete(userId);
    } else {
      this.counts.set(userId, count - 1);
    }
  }

  get userCount(): number {
    return this.counts.size;
  }
}
