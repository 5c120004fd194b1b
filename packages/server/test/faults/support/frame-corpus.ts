import { readFileSync } from 'node:fs';

import type { FuzzFrame } from './fuzz-frames.js';

const CORPUS_URL = new URL('../corpus/malformed-frames.json', import.meta.url);

/** One malformed frame of the corpus, with the outcome the protocol documents for it. */
export interface CorpusEntry {
  name: string;
  /** What the connection has done before the frame: nothing, a guest sign-in, or also a join of fuzz-a. */
  stage: 'open' | 'authenticated' | 'joined';
  frame: FuzzFrame;
  expect: { reply?: string; error?: string; close?: number };
}

interface RawEntry {
  name?: unknown;
  stage?: unknown;
  text?: unknown;
  hex?: unknown;
  binaryHex?: unknown;
  opcode?: unknown;
  repeat?: unknown;
  expect?: unknown;
}

/** Reads the corpus file. Throws, naming the entry, when an entry is malformed. */
export function loadFrameCorpus(): CorpusEntry[] {
  const document = JSON.parse(readFileSync(CORPUS_URL, 'utf8')) as { frames?: unknown };
  if (!Array.isArray(document.frames)) {
    throw new Error(`${CORPUS_URL.pathname}: "frames" must be an array`);
  }
  return document.frames.map((raw: RawEntry, index) => parseEntry(raw, index));
}

function parseEntry(raw: RawEntry, index: number): CorpusEntry {
  const name = typeof raw.name === 'string' ? raw.name : `entry ${index}`;
  const fail = (problem: string): never => {
    throw new Error(`${CORPUS_URL.pathname}, "${name}": ${problem}`);
  };

  if (raw.stage !== 'open' && raw.stage !== 'authenticated' && raw.stage !== 'joined') {
    fail('stage must be open, authenticated or joined');
  }
  const expect = raw.expect as CorpusEntry['expect'] | undefined;
  if (typeof expect !== 'object' || expect === null || (expect.reply === undefined && expect.error === undefined && expect.close === undefined)) {
    fail('expect must name a reply, an error or a close');
  }

  let frame: FuzzFrame;
  if (typeof raw.text === 'string') {
    frame = { kind: 'text', text: expandRepeats(raw.text, raw.repeat, fail) };
  } else if (typeof raw.hex === 'string') {
    frame = { kind: 'bytes', bytes: Buffer.from(raw.hex, 'hex') };
  } else if (typeof raw.binaryHex === 'string') {
    frame = { kind: 'binary', bytes: Buffer.from(raw.binaryHex, 'hex') };
  } else if (typeof raw.opcode === 'number') {
    frame = { kind: 'opcode', opcode: raw.opcode };
  } else {
    return fail('give one of text, hex, binaryHex or opcode');
  }
  return { name, stage: raw.stage as CorpusEntry['stage'], frame, expect: expect as CorpusEntry['expect'] };
}

function expandRepeats(text: string, repeat: unknown, fail: (problem: string) => never): string {
  if (repeat === undefined) {
    return text;
  }
  if (!Array.isArray(repeat)) {
    return fail('repeat must be an array of {marker, unit, count}');
  }
  let expanded = text;
  for (const item of repeat as Array<{ marker?: unknown; unit?: unknown; count?: unknown }>) {
    if (typeof item.marker !== 'string' || typeof item.unit !== 'string' || typeof item.count !== 'number') {
      fail('each repeat needs a string marker, a string unit and a number count');
    }
    const expansion = (item.unit as string).repeat(item.count as number);
    expanded = expanded.replace(item.marker as string, () => expansion);
  }
  return expanded;
}
