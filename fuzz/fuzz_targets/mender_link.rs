//! Mender `Link` headers (RFC 8288): every line of the input is one header line, as a server or a
//! folding proxy may send them.
#![no_main]

use fleetdeck::backend::mender::link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let links = link::parse_all(lines.iter().copied());
    assert!(
        links.len() <= text.matches('<').count(),
        "more links than link starts"
    );
    for l in &links {
        // A URI reference cannot contain '>': the first one closes the target.
        assert!(!l.target.contains('>'), "target {:?}", l.target);
        for r in &l.rels {
            assert!(
                !r.is_empty() && !r.contains(char::is_whitespace),
                "rel {r:?}"
            );
            assert_eq!(r, &r.to_ascii_lowercase(), "rels are compared lower-cased");
        }
    }
    for rel in ["next", "prev", "first", "last"] {
        let first = links
            .iter()
            .find(|l| l.has_rel(rel))
            .map(|l| l.target.clone());
        assert_eq!(link::find(lines.iter().copied(), rel), first);
    }
});
