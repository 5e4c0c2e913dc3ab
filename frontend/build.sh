#!/bin/sh
# Builds the browser bundle (frontend/static/frontend/build/) from the locked
# dependencies. The README's run command calls this; built files are never
# edited by hand or committed.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
