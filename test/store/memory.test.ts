import { MemoryBacking, MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';
import { storeConformance } from './conformance.js';

storeConformance('memory', async () => {
  const backing = new MemoryBacking();
  let store: Store = new MemoryStore('alice', backing);
  return {
    store,
    openAs: async (user) => new MemoryStore(user, backing),
    reopen: async () => {
      await store.close();
      store = new MemoryStore('alice', backing);
      return store;
    },
    cleanup: async () => {
      await store.close();
    },
  };
});
