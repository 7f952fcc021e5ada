//! The sources of a log ring's lines, each name held once: a line keeps a 4-byte number
//! instead of an `Arc` (8 bytes and a reference count touched on every push and drop).

use std::collections::HashMap;
use std::sync::Arc;

/// Number 0 is "no source" (a single-source view); a name's number never changes while the
/// table lives, so a line's number stays valid as long as the line.
#[derive(Debug, Default)]
pub struct SourceTable {
    names: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
    /// The last name looked up: a flood comes from one source at a time, mostly.
    last: Option<(Arc<str>, u32)>,
}

impl SourceTable {
    pub fn intern(&mut self, source: Option<&Arc<str>>) -> u32 {
        let Some(name) = source else { return 0 };
        if let Some((last, n)) = &self.last
            && (Arc::ptr_eq(last, name) || **last == **name)
        {
            return *n;
        }
        let n = match self.numbers.get(name) {
            Some(&n) => n,
            None => {
                // More than 4 billion sources in one view cannot happen; if it did, the lines
                // would show without a prefix rather than fail.
                let Ok(n) = u32::try_from(self.names.len() + 1) else {
                    return 0;
                };
                self.names.push(name.clone());
                self.numbers.insert(name.clone(), n);
                n
            }
        };
        self.last = Some((name.clone(), n));
        n
    }

    pub fn name(&self, n: u32) -> Option<&Arc<str>> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.names.get(i)
    }

    pub fn clear(&mut self) {
        *self = SourceTable::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_once_and_none_is_zero() {
        let mut t = SourceTable::default();
        let web: Arc<str> = "web".into();
        let db: Arc<str> = "db".into();
        assert_eq!(t.intern(None), 0);
        assert_eq!(t.intern(Some(&web)), 1);
        assert_eq!(t.intern(Some(&db)), 2);
        // Another Arc with the same name is the same source.
        assert_eq!(t.intern(Some(&"web".into())), 1);
        assert_eq!(t.intern(Some(&db)), 2);
        assert_eq!(t.name(1).map(|s| &**s), Some("web"));
        assert_eq!(t.name(0), None);
        assert_eq!(t.name(3), None);
    }
}
