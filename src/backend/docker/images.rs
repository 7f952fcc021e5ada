//! Images → rows (`docker images`, one row per image id).

use std::collections::HashMap;

use bollard::models::{ContainerSummary, ImageSummary};

use super::util::{clean_labels, human_size, short_id, ts_from_secs};
use crate::model::{Health, Resource, ResourceKey, ResourceKind, SourceId};
use crate::term::sanitize::sanitize_plain;

/// "repo:tag", "repo:tag +2" when the image has more tags, or `<none>` for a dangling image.
pub fn image_title(img: &ImageSummary) -> String {
    let mut tags: Vec<&str> = img
        .repo_tags
        .iter()
        .map(String::as_str)
        .filter(|t| !t.is_empty() && *t != "<none>:<none>")
        .collect();
    tags.sort_unstable();
    match tags.as_slice() {
        [] => "<none>".to_owned(),
        [one] => sanitize_plain(one),
        [first, rest @ ..] => format!("{} +{}", sanitize_plain(first), rest.len()),
    }
}

/// `containers` gives the CONTAINERS column: the list API reports -1 there unless asked for
/// expensive disk-usage data, so the count comes from the container list instead.
pub fn image_resources(
    source: &SourceId,
    images: &[ImageSummary],
    containers: &[ContainerSummary],
) -> Vec<Resource> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for c in containers {
        if let Some(id) = c.image_id.as_deref() {
            *uses.entry(id).or_default() += 1;
        }
    }
    let mut rows: Vec<Resource> = images
        .iter()
        .filter(|img| !img.id.is_empty())
        .map(|img| {
            let count = uses.get(img.id.as_str()).copied().unwrap_or(0);
            let title = image_title(img);
            Resource {
                key: ResourceKey {
                    source: source.clone(),
                    kind: ResourceKind::Image,
                    id: sanitize_plain(&img.id),
                },
                name: title.clone(),
                parent: None,
                // Images have no lifecycle; "in use" is the useful distinction.
                health: if count > 0 {
                    Health::Ok
                } else {
                    Health::Stopped
                },
                cells: vec![
                    title,
                    short_id(&img.id),
                    human_size(img.size),
                    count.to_string(),
                    String::new(),
                ],
                created: ts_from_secs(img.created),
                labels: clean_labels(Some(&img.labels)),
                facts: Default::default(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.id.cmp(&b.key.id)));
    rows
}
