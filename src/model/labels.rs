//! A row's labels: a few per row, kept as a sorted vector. A `BTreeMap<String, String>`
//! allocates a whole node (544 bytes) for its first entry, ~2.7 MB for 5,000 pods' rows with a
//! couple of labels each (issue #16); the vector costs 48 bytes a label. Lookups are a binary
//! search; rows are built once and read often.

use serde::ser::{Serialize, SerializeMap, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    pub const fn new() -> Self {
        Labels(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key`; the value it had, if any (as `BTreeMap::insert`).
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// In key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &String)> + Clone {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(String, String)> for Labels {
    /// The last value of a repeated key wins, as collecting into a map.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut labels = Labels::new();
        for (k, v) in iter {
            labels.insert(k, v);
        }
        labels.0.shrink_to_fit();
        labels
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

/// `labels["key"]`, panicking when it is missing (as the map's index).
impl std::ops::Index<&str> for Labels {
    type Output = String;
    fn index(&self, key: &str) -> &String {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no label {key:?}"),
        }
    }
}

/// A JSON object, as the map it replaces (`ls -o json`).
impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_the_sorted_map_it_replaces() {
        let pairs =
            [("b", "1"), ("a", "2"), ("b", "3")].map(|(k, v)| (k.to_string(), v.to_string()));
        let l: Labels = pairs.clone().into_iter().collect();
        let m: std::collections::BTreeMap<String, String> = pairs.into_iter().collect();
        assert_eq!(l.iter().collect::<Vec<_>>(), m.iter().collect::<Vec<_>>());
        assert_eq!(l.get("b"), Some(&"3".to_string()));
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
        let mut l = l;
        assert_eq!(l.insert("a".into(), "9".into()), Some("2".into()));
        assert_eq!(l.insert("0".into(), "x".into()), None);
        let keys: Vec<&String> = l.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["0", "a", "b"]);
        assert!(l.contains_key("0") && !l.contains_key("c"));
        assert_eq!(l["a"], "9");
    }
}
