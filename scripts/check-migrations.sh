#!/usr/bin/env bash
# Fail when a migration that has landed is modified or deleted (renames count as deletions).
# Migrations are never edited once landed: a database that already ran one would never see
# the edit. Change the schema with a new migration instead.
#
#   scripts/check-migrations.sh        (run by .ci/run)
#
# Three checks, each naming the offending file on one line:
#   1. history: no commit modifies or deletes a file under migrations/ that an earlier
#      commit added (except the edits in ALLOWED below);
#   2. landed main: against the merge base with `origin/main` / `main` (or $MIGRATIONS_BASE),
#      when such a ref exists, no migration that existed there is modified or deleted;
#   3. working tree and index: no migration tracked in HEAD is modified or deleted.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# Edits that landed before this check existed, as "<commit> <path>". Never add to this list.
ALLOWED=(
  # 20261122000003_orders.sql was edited after it landed, before the check; left as it is.
  "8e458a31bba567742661e7ce2a68b4affb25a08d migrations/20261122000003_orders.sql"
)

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  warn "not a git checkout: migration edits not checked"
  exit 0
fi
if [[ "$(git rev-parse --is-shallow-repository)" == true ]]; then
  warn "shallow clone: only the fetched history is checked for migration edits"
fi

allowed() {
  local entry
  for entry in "${ALLOWED[@]}"; do
    [[ "$entry" == "$1 $2" ]] && return 0
  done
  return 1
}

failed=0

# 1. Every commit that modifies (M) or deletes (D) a migration; a merge is compared with its
#    first parent, so an edit made while resolving a merge is seen too. Adding one is fine.
commit=""
while IFS= read -r line; do
  if [[ "$line" == commit\ * ]]; then
    commit="${line#commit }"
  elif [[ -n "$line" ]]; then
    if ! allowed "$commit" "$line"; then
      printf 'error: %s was modified or deleted by commit %s after it landed; add a new migration instead\n' \
        "$line" "${commit:0:12}" >&2
      failed=1
    fi
  fi
done < <(git log --no-renames --diff-merges=first-parent --diff-filter=MD \
  --format='commit %H' --name-only -- migrations/)

# 2. The net change since the landed main, which also sees edits made in merge commits.
bases=()
if [[ -n "${MIGRATIONS_BASE:-}" ]]; then
  bases+=("$MIGRATIONS_BASE")
fi
bases+=(origin/main main)
for ref in "${bases[@]}"; do
  git rev-parse --verify --quiet "$ref^{commit}" >/dev/null || continue
  base="$(git merge-base "$ref" HEAD)" || continue
  while IFS= read -r file; do
    [[ -n "$file" ]] || continue
    printf 'error: %s was modified or deleted since %s (%s); add a new migration instead\n' \
      "$file" "$ref" "${base:0:12}" >&2
    failed=1
  done < <(git diff --no-renames --diff-filter=MD --name-only "$base" HEAD -- migrations/)
done

# 3. Uncommitted edits (staged or not) to migrations that HEAD already has.
while IFS= read -r file; do
  [[ -n "$file" ]] || continue
  printf 'error: %s differs from HEAD (modified or deleted); add a new migration instead\n' "$file" >&2
  failed=1
done < <(git diff --no-renames --diff-filter=MD --name-only HEAD -- migrations/)

if ((failed)); then
  exit 1
fi
log "migrations: no landed migration modified or deleted"
