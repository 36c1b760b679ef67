#!/usr/bin/env bash
# Generate a migration from a plpgsql function's one source file.
#
#   scripts/sql-migration.sh NAME     copies crates/shopwire-core/sql/NAME.sql into
#                                     migrations/<UTC timestamp>_NAME.sql
#
# Business rules written in plpgsql keep their source in crates/shopwire-core/sql/; edit the
# file there, then run this to make the migration that deploys the change (landed
# migrations are never edited). A test checks the deployed definition equals the file.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
name="${1:?usage: scripts/sql-migration.sh NAME (a file crates/shopwire-core/sql/NAME.sql)}"
source="crates/shopwire-core/sql/$name.sql"
[[ -f "$source" ]] || { echo "error: no $source" >&2; exit 1; }
target="migrations/$(date -u +%Y%m%d%H%M%S)_$name.sql"
{
  echo "-- Generated from $source by scripts/sql-migration.sh: edit that file, not this one."
  echo
  cat "$source"
} >"$target"
echo "$target"
