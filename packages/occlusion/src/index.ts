export { parseLabels, readLabels, formatLabels, rasteriseLabels, LABEL_MODES, type Labels, type LabelPolygon, type LabelMode } from './labels.js';
