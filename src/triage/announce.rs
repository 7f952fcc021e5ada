//! Announcing new problems: a problem on a resource that had none before is told once (one
//! toast), wherever the operator is — unless they are looking at `:triage` already.
//!
//! What a row store held when it was first loaded is not news (every startup would toast the
//! whole list): a store's problems are taken as known until its first complete list arrived
//! (a Docker list shown while its inspects run is still loading). After that, a resource key
//! never seen with a problem is new; one that had a problem, lost it and got one again is not
//! told twice (a flapping container would toast at every turn). At most one announcement per
//! refresh: several new problems at once read "3 new problems: …".

use std::collections::HashSet;

use super::{Problem, Severity, Triage};
use crate::model::{ResourceKey, ResourceKind, SourceId};

/// Remembered keys past this are forgotten at once (a fleet churning through names must not
/// grow memory without end); the cost is at most one repeated announcement each.
const SEEN_MAX: usize = 100_000;

#[derive(Debug, Default)]
pub struct Announcer {
    seen: HashSet<ResourceKey>,
    /// Row stores whose first complete list has been taken in.
    settled: HashSet<(SourceId, ResourceKind)>,
}

/// What to tell the operator: the toast's text and whether it is critical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub text: String,
    pub critical: bool,
}

impl Announcer {
    /// `source` changed scope (namespace, context): its next lists are first loads again.
    pub fn forget_source(&mut self, source: &SourceId) {
        self.settled.retain(|(s, _)| s != source);
    }

    /// `kind`'s problems were recomputed. `sources` are the stores of `kind` that hold rows,
    /// each with whether it is still loading. Returns what is new (None: nothing, or all known).
    pub fn update(
        &mut self,
        triage: &Triage,
        kind: ResourceKind,
        sources: &[(SourceId, bool)],
    ) -> Option<Announcement> {
        if self.seen.len() > SEEN_MAX {
            self.seen.clear();
        }
        let mut new: Vec<&Problem> = Vec::new();
        for (source, _) in sources {
            let store = (source.clone(), kind);
            let settled = self.settled.contains(&store);
            for p in triage.store(source, kind) {
                if self.seen.insert(p.key.clone()) && settled {
                    new.push(p);
                }
            }
        }
        for (source, loading) in sources {
            if !loading {
                self.settled.insert((source.clone(), kind));
            }
        }
        let first = new.iter().min_by(|a, b| Problem::order(a, b))?;
        let critical = new.iter().any(|p| p.severity == Severity::Critical);
        let text = if new.len() == 1 {
            format!("new problem: {} {} — :triage", first.name, first.problem)
        } else {
            format!(
                "{} new problems: {} {}, … — :triage",
                new.len(),
                first.name,
                first.problem
            )
        };
        Some(Announcement { text, critical })
    }
}
