#!/usr/bin/env node
// The `uk` command. A committed file, so that package managers can link it before the
// first build; the program itself is built to dist/.
import '../dist/bin.js';
