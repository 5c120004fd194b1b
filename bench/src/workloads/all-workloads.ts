import { connectStormWorkload } from './connect-storm-workload.js';
import { durableSendWorkload } from './durable-send-workload.js';
import { fanoutWorkload } from './fanout-workload.js';
import { idleMemoryWorkload } from './idle-memory-workload.js';
import { manyRoomsWorkload } from './many-rooms-workload.js';
import { resumeWorkload } from './resume-workload.js';
import { slowConsumerWorkload } from './slow-consumer-workload.js';
import { twoNodesWorkload } from './two-nodes-workload.js';
import type { Workload } from './workload.js';

/** Every workload, in the order the suite runs and reports them. */
export const ALL_WORKLOADS: Workload[] = [
  fanoutWorkload,
  manyRoomsWorkload,
  connectStormWorkload,
  idleMemoryWorkload,
  resumeWorkload,
  durableSendWorkload,
  slowConsumerWorkload,
  twoNodesWorkload,
];
