//! A known_hosts file parsed once and indexed by host name, kept while the file stays the same.
//!
//! A fleet's known_hosts has a line per device, and every login asks it twice (the key types
//! recorded for the host, then the verdict on the key it presented): reading and matching every
//! line each time was a quarter of the console's CPU in a 1,000-device connect wave
//! (docs/PERFORMANCE.md §22). Now a login costs a `stat` and a hash lookup; the file is read
//! again when its size, inode, or modification or change time differ, while it is younger than
//! the file system's time tick, and after [`forget`] (the console wrote it itself).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use russh::keys::PublicKey;

use super::hosts_match;
use crate::ssh::files::{self, FileError};

/// One known_hosts line, its key still in base64.
#[derive(Debug)]
pub struct Entry {
    pub line: usize,
    pub marker: Option<Box<str>>,
    pub hosts: Box<str>,
    key_base64: Box<str>,
}

impl Entry {
    /// The line's key; None when it does not parse (the line is then ignored, as ssh does).
    /// Parsed only for the lines of the host asked about.
    pub fn key(&self) -> Option<PublicKey> {
        russh::keys::parse_public_key_base64(&self.key_base64).ok()
    }
}

/// The entries of one file, by the plain names they list.
#[derive(Debug, Default)]
pub struct Table {
    entries: Vec<Entry>,
    /// Entry indices by each plain name of their host list, in lower case: most lines.
    by_name: HashMap<Box<str>, Vec<usize>>,
    /// Entries whose hosts have a wildcard, a negation or a hashed name: matched one by one.
    patterned: Vec<usize>,
}

impl Table {
    /// The entries of a known_hosts text (comments and blanks skipped).
    pub fn parse(text: &str) -> Table {
        let mut table = Table::default();
        for (i, raw) in text.lines().enumerate() {
            let Some(entry) = parse_line(i + 1, raw) else {
                continue;
            };
            let at = table.entries.len();
            let plain = !entry.hosts.starts_with('|') && !entry.hosts.contains(['*', '?', '!']);
            if plain {
                for name in entry.hosts.split(',') {
                    let slot = table
                        .by_name
                        .entry(name.to_ascii_lowercase().into())
                        .or_default();
                    // `a,a` lists the line once.
                    if slot.last() != Some(&at) {
                        slot.push(at);
                    }
                }
            } else {
                table.patterned.push(at);
            }
            table.entries.push(entry);
        }
        table
    }

    /// The entries whose hosts match `name`, in file order.
    pub fn matching(&self, name: &str) -> impl Iterator<Item = &Entry> {
        let listed = self
            .by_name
            .get(name.to_ascii_lowercase().as_str())
            .map_or(&[][..], Vec::as_slice);
        let patterned = self
            .patterned
            .iter()
            .copied()
            .filter(|&i| hosts_match(&self.entries[i].hosts, name));
        let mut at: Vec<usize> = listed.iter().copied().chain(patterned).collect();
        at.sort_unstable();
        at.into_iter().map(|i| &self.entries[i])
    }
}

fn parse_line(line: usize, raw: &str) -> Option<Entry> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with('#') {
        return None;
    }
    let mut fields = raw.split_whitespace();
    let mut hosts = fields.next()?;
    let marker = if hosts.starts_with('@') {
        let m = hosts;
        hosts = fields.next()?;
        Some(m.into())
    } else {
        None
    };
    let (_ktype, key_base64) = (fields.next()?, fields.next()?);
    Some(Entry {
        line,
        marker,
        hosts: hosts.into(),
        key_base64: key_base64.into(),
    })
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: SystemTime,
    /// The inode's change time too: it moves with every write, even one that sets mtime back.
    changed: SystemTime,
    inode: u64,
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let changed = UNIX_EPOCH
            + Duration::new(
                u64::try_from(m.ctime()).ok()?,
                u32::try_from(m.ctime_nsec()).ok()?,
            );
        Some(Stamp {
            len: m.len(),
            modified: m.modified().ok()?,
            changed,
            inode: m.ino(),
        })
    }

    /// Written too recently to tell a later write apart: file times tick coarsely (a few ms
    /// on Linux, whole seconds on some file systems), so a same-size rewrite within the tick
    /// would keep the stamp. Such a file is read at every login until it settles (git's
    /// "racy" index entries, handled the same way).
    fn is_racy(&self, now: SystemTime) -> bool {
        let newest = self.modified.max(self.changed);
        now.duration_since(newest).map_or(true, |age| age < SETTLED)
    }
}

/// How old a file's times must be before its table is kept: past the coarsest tick (FAT's 2 s).
const SETTLED: Duration = Duration::from_secs(3);

type Cache = Mutex<HashMap<PathBuf, (Stamp, Arc<Table>)>>;

/// The kept tables (a poisoned lock still holds whole entries: each is inserted in one step).
fn cache() -> MutexGuard<'static, HashMap<PathBuf, (Stamp, Arc<Table>)>> {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The table of `path`, None when it does not exist; read and parsed only when the file
/// changed since the last call. Only regular files that have settled are kept (a pipe or
/// device is read each time, and fails as [`files::read`] says).
pub fn load(path: &Path) -> Result<Option<Arc<Table>>, FileError> {
    load_at(path, SystemTime::now())
}

fn load_at(path: &Path, now: SystemTime) -> Result<Option<Arc<Table>>, FileError> {
    let stamp = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .and_then(|m| Stamp::of(&m))
        .filter(|s| !s.is_racy(now));
    if let Some(stamp) = stamp
        && let Some((seen, table)) = cache().get(path)
        && *seen == stamp
    {
        return Ok(Some(table.clone()));
    }
    let Some(text) = files::read(path)? else {
        forget(path);
        return Ok(None);
    };
    let table = Arc::new(Table::parse(&text));
    // Stamped as before the read: a change during it moves the stamp, so the next login
    // reads the file again.
    match stamp {
        Some(stamp) => cache().insert(path.to_path_buf(), (stamp, table.clone())),
        None => cache().remove(path),
    };
    Ok(Some(table))
}

/// Drop what is kept of `path` (the console just wrote it).
pub fn forget(path: &Path) {
    cache().remove(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";

    fn lines(t: &Table, name: &str) -> Vec<usize> {
        t.matching(name).map(|e| e.line).collect()
    }

    #[test]
    fn plain_names_are_found_by_lookup_and_patterns_by_matching_in_file_order() {
        let t = Table::parse(&format!(
            "a,B ssh-ed25519 {K}\n*.x ssh-ed25519 {K}\n# c\nb.x,a ssh-ed25519 {K}\n\
             !b.x,*.x ssh-ed25519 {K}\n@revoked a ssh-ed25519 {K}\nshort line\n"
        ));
        assert_eq!(lines(&t, "a"), [1, 4, 6]);
        assert_eq!(lines(&t, "A"), [1, 4, 6], "names match in any case");
        assert_eq!(lines(&t, "b"), [1]);
        assert_eq!(lines(&t, "b.x"), [2, 4], "negated on line 5");
        assert_eq!(lines(&t, "c.x"), [2, 5]);
        assert!(lines(&t, "nowhere").is_empty());
        assert_eq!(
            t.matching("a").nth(2).unwrap().marker.as_deref(),
            Some("@revoked")
        );
    }

    #[test]
    fn a_settled_file_is_kept_until_it_changes_and_missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("known_hosts");
        assert!(load(&f).unwrap().is_none());
        std::fs::write(&f, format!("a ssh-ed25519 {K}\n")).unwrap();
        let fresh = load(&f).unwrap().unwrap();
        assert!(
            !Arc::ptr_eq(&fresh, &load(&f).unwrap().unwrap()),
            "just written: read each time"
        );
        let later = SystemTime::now() + SETTLED * 2;
        let first = load_at(&f, later).unwrap().unwrap();
        assert!(
            Arc::ptr_eq(&first, &load_at(&f, later).unwrap().unwrap()),
            "kept"
        );
        // The same size and within the tick: the next call reads it again all the same.
        std::fs::write(&f, format!("b ssh-ed25519 {K}\n")).unwrap();
        assert_eq!(lines(&load(&f).unwrap().unwrap(), "b"), [1], "read again");
        assert!(lines(&load_at(&f, later).unwrap().unwrap(), "a").is_empty());
        std::fs::remove_file(&f).unwrap();
        assert!(load_at(&f, later).unwrap().is_none(), "gone");
    }
}
