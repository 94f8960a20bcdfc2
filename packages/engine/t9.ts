import { initEngine, tf } from './src/index.js';
const e = tf.engine() as any;
let v: unknown = null;
Object.defineProperty(e, 'pendingBackendInit', { get() { return v; }, set(x) { if (x != null) console.log('SET pending', new Error().stack?.split('\n').slice(2, 9).join('\n')); v = x; } });
try { await initEngine({ backend: 'wasm', log: () => {} }); } catch (err) { console.log('wasm err'); }
try { await initEngine({ backend: 'cpu', log: () => {} }); } catch (err) { console.log('cpu err'); }
