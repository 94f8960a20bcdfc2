#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { runOcclusion } from './stage.js';

await runStage({ occlusion: runOcclusion });
