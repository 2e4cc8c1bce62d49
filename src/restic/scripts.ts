// The shell scripts the Jobs run, in POSIX sh (busybox in the official restic image). Everything
// variable arrives through the environment (credentials from a Secret), never through the text.
//
// Each script writes one line to the termination log: restic's JSON summary on success, or the
// reason in words on failure. The hooks read it from the Pod's status.

/** Shared prologue: logging, failure reporting, and opening (or creating) the repository. */
const PROLOGUE = String.raw`set -u
say() { printf 'backsnap: %s\n' "$*" >&2; }
give_up() { say "$1"; printf '%s' "$1" >/dev/termination-log; exit "$2"; }
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
printf '%s' "$summary" >/dev/termination-log
`;

export const RESTORE_SCRIPT = String.raw`${PROLOGUE}
if [ "$rc" -eq 10 ]; then
  give_up "there are no backups of $BACKUP_NAMESPACE/$BACKUP_VOLUME: the repository does not exist" 10
elif [ "$rc" -ne 0 ]; then
  give_up "cannot open the repository (restic exit $rc): $(last_error)" "$rc"
fi
# Pin the snapshot first, so the status can say which one was restored.
run restic snapshots --json "$SOURCE_SNAPSHOT" >/tmp/snapshots.json || give_up "cannot list snapshot $SOURCE_SNAPSHOT: $(last_error)" 1
id=$(sed -n 's/.*"id":"\([0-9a-f]\{64\}\)".*/\1/p' /tmp/snapshots.json | head -n 1)
[ -n "$id" ] || give_up "snapshot $SOURCE_SNAPSHOT of $BACKUP_NAMESPACE/$BACKUP_VOLUME does not exist" 1
say "restoring snapshot $id"
# backsnap backs up the volume as /data: its content becomes the root of the new volume.
rc=0
restic restore --json --sparse --verify --target /data "$id:/data" >/tmp/restore.json 2>/tmp/restic.err || rc=$?
cat /tmp/restic.err >&2
grep -v '"message_type":"status"' /tmp/restore.json || true
[ "$rc" -eq 0 ] || give_up "restic restore failed (exit $rc): $(last_error)" "$rc"
summary=$(grep '"message_type":"summary"' /tmp/restore.json | tail -n 1)
printf '{"message_type":"restore","snapshot_id":"%s","summary":%s}' "$id" "${'$'}{summary:-null}" >/dev/termination-log
`;
