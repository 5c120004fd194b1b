/** One step of the PostgreSQL schema. Versions start at 1 and are applied in order, each once. */
export interface PostgresMigration {
  version: number;
  name: string;
  /** SQL text; `schema` is the quoted schema identifier to qualify every object with. */
  sql(schema: string): string;
}

/**
 * The schema of the PostgreSQL log, in order. Append a new entry to change the schema; never edit
 * an entry that has shipped, because nodes that applied it will not run it again.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'room log',
    sql: (schema) => `
      CREATE TABLE ${schema}.meta (
        key text PRIMARY KEY,
        value text NOT NULL
      );

      -- The epoch names this log. It is written once, when the schema is created, so a client's
      -- cursor from another log (or a log that was dropped and created anew) is recognised.
      INSERT INTO ${schema}.meta (key, value) VALUES ('epoch', gen_random_uuid()::text);

      -- head_seq is the seq of the room's latest event. Appends lock this row, which serializes
      -- writers of one room across every node and is what makes the seq gap-free.
      CREATE TABLE ${schema}.rooms (
        room text PRIMARY KEY,
        head_seq bigint NOT NULL DEFAULT 0
      );

      -- Content is stored as UTF-8 bytes because a PostgreSQL text value cannot contain U+0000,
      -- which is valid message content.
      CREATE TABLE ${schema}.events (
        room text NOT NULL,
        seq bigint NOT NULL,
        id text NOT NULL,
        kind text NOT NULL,
        sender_id text NOT NULL,
        sender_name text NOT NULL,
        client_message_id text NOT NULL,
        content bytea NOT NULL,
        created_at_ms bigint NOT NULL,
        PRIMARY KEY (room, seq),
        CONSTRAINT events_id_unique UNIQUE (id),
        CONSTRAINT events_dedupe_unique UNIQUE (room, sender_id, client_message_id)
      );

      -- Appends a batch of events in one statement, so one round trip and one commit serve every
      -- append that arrived in the same tick. Items are processed in array order; the caller sorts
      -- them by room so that concurrent batches lock room rows in the same order and cannot
      -- deadlock. A duplicate (room, sender, client message id) returns the stored event.
      CREATE FUNCTION ${schema}.append_events(
        p_rooms text[],
        p_kinds text[],
        p_sender_ids text[],
        p_sender_names text[],
        p_client_message_ids text[],
        p_contents bytea[],
        p_ids text[]
      )
      RETURNS TABLE (
        out_ord integer,
        out_seq bigint,
        out_id text,
        out_kind text,
        out_sender_name text,
        out_content bytea,
        out_created_at_ms bigint,
        out_duplicate boolean
      )
      LANGUAGE plpgsql
      AS $body$
      DECLARE
        i integer;
      BEGIN
        FOR i IN 1 .. coalesce(array_length(p_rooms, 1), 0) LOOP
          INSERT INTO ${schema}.rooms (room, head_seq) VALUES (p_rooms[i], 0)
            ON CONFLICT (room) DO NOTHING;

          -- Take the room lock before the dedupe lookup: under READ COMMITTED the next statement
          -- then sees every event that a writer holding the lock before us committed.
          PERFORM 1 FROM ${schema}.rooms r WHERE r.room = p_rooms[i] FOR UPDATE;

          out_ord := i;
          SELECT e.seq, e.id, e.kind, e.sender_name, e.content, e.created_at_ms
            INTO out_seq, out_id, out_kind, out_sender_name, out_content, out_created_at_ms
            FROM ${schema}.events e
            WHERE e.room = p_rooms[i]
              AND e.sender_id = p_sender_ids[i]
              AND e.client_message_id = p_client_message_ids[i];

          IF FOUND THEN
            out_duplicate := true;
          ELSE
            UPDATE ${schema}.rooms r SET head_seq = r.head_seq + 1
              WHERE r.room = p_rooms[i]
              RETURNING r.head_seq INTO out_seq;

            out_id := p_ids[i];
            out_kind := p_kinds[i];
            out_sender_name := p_sender_names[i];
            out_content := p_contents[i];
            -- The database clock stamps every event, so node clocks that disagree do not show in
            -- timestamps: within a room they only grow, unless the database host's clock steps back.
            out_created_at_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
            out_duplicate := false;

            INSERT INTO ${schema}.events
              (room, seq, id, kind, sender_id, sender_name, client_message_id, content, created_at_ms)
              VALUES (p_rooms[i], out_seq, out_id, out_kind, p_sender_ids[i], out_sender_name,
                      p_client_message_ids[i], out_content, out_created_at_ms);
          END IF;

          RETURN NEXT;
        END LOOP;
      END
      $body$;
    `,
  },
];
