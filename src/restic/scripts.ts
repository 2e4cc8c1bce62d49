// The shell scripts the Jobs run, in POSIX sh (busybox in the official restic image). Everything
// variable arrives through the environment (credentials from a Secret), never through the text.
//
// Each script writes one line to the termination log: restic's JSON summary on success, or the
// reason in words on failure. The hooks read it from the Pod's status.

/** Shared prologue: logging, failure reporting, and opening (or creating) the repository. */
const PROLOGUE = String.raw`set -u
say() { printf 'backsnap: %s\n' "$*" >&2; }
give_up() { say "$1"; printf '%s' "$1" >/dev/termination-log; exit "$2"; }
# Text safe inside a JSON string of the termination log (which holds at most 4 KiB).
json_text() { printf '%s' "$1" | tr '\n\r\t"\\' '     ' | cut -c1-300; }
# give_up with a reason the hooks report as it is (e.g. SnapshotNotFound).
fail_with() { say "$2"; printf '{"message_type":"failure","reason":"%s","message":"%s"}' "$1" "$(json_text "$2")" >/dev/termination-log; exit "$3"; }
# run CMD...: runs restic with its stderr kept in /tmp/restic.err (and shown in the log).
run() { "$@" 2>/tmp/restic.err; rc=$?; cat /tmp/restic.err >&2; return $rc; }
last_error() { tail -n 3 /tmp/restic.err | tr '\n' ' '; }
restic version
rc=0; run restic cat config >/dev/null || rc=$?
`;

export const BACKUP_SCRIPT = String.raw`${PROLOGUE}
# restic >= 0.17 exits 10 when the repository does not exist (no error text matching).
if [ "$rc" -eq 10 ]; then
  say "no repository for $BACKUP_NAMESPACE/$BACKUP_VOLUME yet: initialising it"
  run restic init || give_up "restic init failed: $(last_error)" 1
elif [ "$rc" -ne 0 ]; then
  give_up "cannot open the repository (restic exit $rc): $(last_error)" "$rc"
fi
# Removes locks left by killed runs once restic deems them stale; a backup only needs a shared lock.
run restic unlock || say "restic unlock failed, continuing"
rc=0
# Each run reads a fresh volume made from a snapshot: inode numbers and ctimes may differ from the
# previous run's (drivers that copy files), so only size and mtime decide whether a file changed.
restic backup --json --host "$BACKUP_NAMESPACE" --tag backsnap --tag "pvc:$BACKUP_VOLUME" --retry-lock 10m \
  --ignore-inode --ignore-ctime /data \
  >/tmp/backup.json 2>/tmp/restic.err || rc=$?
cat /tmp/restic.err >&2
grep -v '"message_type":"status"' /tmp/backup.json || true
summary=$(grep '"message_type":"summary"' /tmp/backup.json | tail -n 1)
# Exit 3: some files could not be read; the snapshot exists but is incomplete.
if [ "$rc" -ne 0 ]; then give_up "restic backup failed (exit $rc): $(last_error)" "$rc"; fi
[ -n "$summary" ] || give_up "restic backup printed no summary" 1

# Repository maintenance, after the snapshot is safe: failures are reported, never fail the backup.
report="{\"message_type\":\"backsnap\",\"backup\":$summary"
# check, forget and prune need the repository to themselves. No other run of it is going (the hooks
# checked), so every lock left is a killed Pod's, which restic would call stale only after 30 minutes.
if [ "${'$'}{UNLOCK_ALL:-}" = 1 ]; then run restic unlock --remove-all || say "restic unlock --remove-all failed"; fi
damaged=""
if [ -n "${'$'}{CHECK_SUBSET:-}" ]; then
  if run restic check --retry-lock 30m --read-data-subset="$CHECK_SUBSET" >&2; then
    report="$report,\"check\":{\"ok\":true}"
  else
    damaged=1
    report="$report,\"check\":{\"error\":\"$(json_text "$(last_error)")\"}"
  fi
fi
if [ -n "$damaged" ]; then
  say "the check failed: forget and prune are skipped, nothing in the repository is touched"
else
  if [ -n "${'$'}{RETENTION_FLAGS:-}" ]; then
    before=$(restic snapshots --json --host "$BACKUP_NAMESPACE" --path /data 2>/dev/null | grep -o '"short_id"' | wc -l | tr -d ' ')
    # RETENTION_FLAGS are validated flags (--keep-daily 7 ...), split into words on purpose. Grouped
    # by host and path as backsnap wrote them, so its snapshots (without tags) count too.
    # shellcheck disable=SC2086
    if run restic forget --retry-lock 10m --host "$BACKUP_NAMESPACE" --path /data --group-by host,paths $RETENTION_FLAGS >&2; then
      restic snapshots --json --host "$BACKUP_NAMESPACE" --path /data >/tmp/kept.json 2>/dev/null || true
      kept=$(grep -o '"short_id"' /tmp/kept.json | wc -l | tr -d ' ')
      oldest=$(grep -o '"time":"[^"]*"' /tmp/kept.json | cut -d'"' -f4 | sort | head -n 1)
      report="$report,\"retention\":{\"kept\":$kept,\"removed\":$(( ${'$'}{before:-0} - kept )),\"oldest\":\"$oldest\"}"
    else
      report="$report,\"retention\":{\"error\":\"$(json_text "$(last_error)")\"}"
    fi
  fi
  if [ "${'$'}{PRUNE:-}" = 1 ]; then
    if run restic prune --retry-lock 30m >&2; then
      report="$report,\"prune\":{\"ok\":true}"
    else
      report="$report,\"prune\":{\"error\":\"$(json_text "$(last_error)")\"}"
    fi
  fi
fi
printf '%s}' "$report" >/dev/termination-log
`;

export const RESTORE_SCRIPT = String.raw`${PROLOGUE}
if [ "$rc" -eq 10 ]; then
  give_up "there are no backups of $BACKUP_NAMESPACE/$BACKUP_VOLUME: the repository does not exist" 10
elif [ "$rc" -ne 0 ]; then
  give_up "cannot open the repository (restic exit $rc): $(last_error)" "$rc"
fi
# Pin the snapshot first, so the status can say which one was restored.
if [ -n "${'$'}{RESTORE_AS_OF:-}" ]; then
  run restic snapshots --json --retry-lock 30m --host "$BACKUP_NAMESPACE" --path /data >/tmp/snapshots.json || give_up "cannot list the snapshots: $(last_error)" 1
  # The newest snapshot taken at or before RESTORE_AS_OF (UTC, to the second): times and ids come
  # in the same order, and restic writes UTC times in backsnap's Jobs.
  grep -o '"time":"[^"]*"' /tmp/snapshots.json | cut -d'"' -f4 | cut -c1-19 >/tmp/times
  grep -o '"id":"[0-9a-f]\{64\}"' /tmp/snapshots.json | cut -d'"' -f4 >/tmp/ids
  limit=$(printf '%s' "$RESTORE_AS_OF" | cut -c1-19)
  id=$(paste -d ' ' /tmp/times /tmp/ids | awk -v limit="$limit" '$1 <= limit' | sort | tail -n 1 | cut -d ' ' -f 2)
  [ -n "$id" ] || fail_with SnapshotNotFound "no snapshot of $BACKUP_NAMESPACE/$BACKUP_VOLUME was taken at or before $RESTORE_AS_OF (older ones may have been removed by the retention policy)" 11
else
  run restic snapshots --json --retry-lock 30m "$SOURCE_SNAPSHOT" >/tmp/snapshots.json || give_up "cannot list snapshot $SOURCE_SNAPSHOT: $(last_error)" 1
  id=$(sed -n 's/.*"id":"\([0-9a-f]\{64\}\)".*/\1/p' /tmp/snapshots.json | head -n 1)
  [ -n "$id" ] || fail_with SnapshotNotFound "snapshot $SOURCE_SNAPSHOT of $BACKUP_NAMESPACE/$BACKUP_VOLUME is not in the repository (it may have been removed by the retention policy)" 11
fi
say "restoring snapshot $id"
# backsnap backs up the volume as /data: its content becomes the root of the new volume.
rc=0
restic restore --json --retry-lock 30m --sparse --verify --target /data "$id:/data" >/tmp/restore.json 2>/tmp/restic.err || rc=$?
cat /tmp/restic.err >&2
grep -v '"message_type":"status"' /tmp/restore.json || true
[ "$rc" -eq 0 ] || give_up "restic restore failed (exit $rc): $(last_error)" "$rc"
summary=$(grep '"message_type":"summary"' /tmp/restore.json | tail -n 1)
printf '{"message_type":"restore","snapshot_id":"%s","summary":%s}' "$id" "${'$'}{summary:-null}" >/dev/termination-log
`;
