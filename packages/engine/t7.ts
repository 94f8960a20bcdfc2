import { initEngine, tf } from './src/index.js';
const e = tf.engine() as any;
try { await initEngine({ backend: 'wasm' }); } catch (err) { console.log('wasm err', (err as Error).message); }
console.log('pending', e.pendingBackendInit != null, e.backendName, e.backendInstance != null);
await new Promise((r) => setTimeout(r, 200));
console.log('pending later', e.pendingBackendInit != null, e.pendingBackendInitId);
const r = await initEngine({ backend: 'cpu' });
console.log(r.name);
