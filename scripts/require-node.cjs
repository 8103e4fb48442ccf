#!/usr/bin/env node
// Runs first in every npm script: on an older Node the build would succeed and the server would then
// crash on an ESM import, so refuse up front, in one line, naming the version and how to get it.
// Plain CommonJS with no syntax newer than ES2015, so any Node can read it.
'use strict';
var path = require('path');

var range = require(path.join(__dirname, '..', 'package.json')).engines.node;
var wanted = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range);
if (!wanted) {
  process.stderr.write('package.json engines.node must read ">=major.minor[.patch]", not "' + range + '"\n');
  process.exit(1);
}
var have = process.versions.node.split('.').map(Number);
var need = [Number(wanted[1]), Number(wanted[2] || 0), Number(wanted[3] || 0)];
var tooOld = false;
for (var i = 0; i < 3; i++) {
  if (have[i] !== need[i]) {
    tooOld = have[i] < need[i];
    break;
  }
}
if (tooOld) {
  process.stderr.write(
    'auction-platform needs Node.js ' + range + ' (24 LTS recommended) but this is ' + process.version +
      ': run `nvm install` or `fnm use` (both read .nvmrc), or install Node 24 from https://nodejs.org\n',
  );
  process.exit(1);
}
