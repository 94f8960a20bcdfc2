#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { alignStage, datasetStage } from './stages.js';

await runStage({ align: alignStage, dataset: datasetStage });
