import { MemoryStore } from '../src/store/memory-store.js';
import { describeStoreConformance } from './support/store-conformance.js';

describeStoreConformance('MemoryStore', async () => {
  const store = new MemoryStore();
  await store.open();
  return store;
});
