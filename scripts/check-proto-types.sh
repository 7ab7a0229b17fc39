#!/usr/bin/env bash
# Fails when the committed TypeScript types under shared/proto/generated differ
# from what proto-loader-gen-types produces from proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
npx --no-install proto-loader-gen-types --longs=Number --enums=String --defaults --oneofs --keepCase \
  --grpcLib=@grpc/grpc-js --includeDirs=proto --outDir="$fresh" drover/agent/v1/agent.proto >/dev/null
if ! diff -r -x package.json "$fresh" shared/proto/generated >/dev/null; then
  echo "shared/proto/generated is out of date with proto/: run 'npm run proto:gen' and commit the result" >&2
  diff -r -x package.json "$fresh" shared/proto/generated >&2 || true
  exit 1
fi
echo "proto types up to date"
