#!/usr/bin/env node
import '../dist/info-cli.js';
