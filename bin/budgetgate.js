#!/usr/bin/env -S node --max-semi-space-size=64
// --max-semi-space-size=64: a larger young generation makes the scavenges that delayed the worst sends
// rarer and shorter (README, "How exact the traffic is"); `node bin/budgetgate.js` runs without it.
import '../dist/cli/main.js';
